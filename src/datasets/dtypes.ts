import type { ElementType } from '../inference/input/element-types';

/** The dtypes a dataset tensor may have, by their NumPy names (the API's `x_dtype` and `y_dtype`). */
export const DATASET_DTYPES = ['float16', 'float32', 'float64', 'uint8', 'int8', 'int16', 'int32', 'int64'] as const;
export type DatasetDtype = (typeof DATASET_DTYPES)[number];

/** How each dtype is named in a safetensors header and read by the element converters, and whether it is a float. */
const DTYPES: Readonly<Record<DatasetDtype, { safetensors: string; element: ElementType; float: boolean }>> = {
  float16: { safetensors: 'F16', element: 'f2', float: true },
  float32: { safetensors: 'F32', element: 'f4', float: true },
  float64: { safetensors: 'F64', element: 'f8', float: true },
  uint8: { safetensors: 'U8', element: 'u1', float: false },
  int8: { safetensors: 'I8', element: 'i1', float: false },
  int16: { safetensors: 'I16', element: 'i2', float: false },
  int32: { safetensors: 'I32', element: 'i4', float: false },
  int64: { safetensors: 'I64', element: 'i8', float: false },
};

/** The supported dtypes in words, for messages. */
export const SUPPORTED_DTYPES = DATASET_DTYPES.join(', ');

/** The dataset dtype a safetensors header names, if supported. */
export function dtypeOfSafetensors(name: string): DatasetDtype | undefined {
  return DATASET_DTYPES.find((dtype) => DTYPES[dtype].safetensors === name);
}

/** The dataset dtype of an element type (a .npy file's), if supported. */
export function dtypeOfElement(type: ElementType): DatasetDtype | undefined {
  return DATASET_DTYPES.find((dtype) => DTYPES[dtype].element === type);
}

/** The safetensors name of a dataset dtype. */
export function safetensorsDtype(dtype: DatasetDtype): string {
  return DTYPES[dtype].safetensors;
}

/** The element type that reads a dataset dtype. */
export function elementType(dtype: DatasetDtype): ElementType {
  return DTYPES[dtype].element;
}

/** True for the float dtypes, whose values must be finite. */
export function isFloatDtype(dtype: DatasetDtype): boolean {
  return DTYPES[dtype].float;
}

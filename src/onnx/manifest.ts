import { dtypeName, floatDType } from './schema';
import type { TensorRecord } from './tensor-record';

/** One manifest entry: an initializer's name, element type and shape. */
export interface TensorInfo {
  readonly name: string;
  /** The element type as onnxruntime names it (`float32`, `int64`, ...). */
  readonly dtype: string;
  /** The TensorProto.DataType code. */
  readonly dataType: number;
  readonly shape: readonly number[];
  readonly elementCount: number;
  /** Whether the strategies average it (float32, float16, float64, bfloat16); others are copied. */
  readonly isFloat: boolean;
}

/** The manifest entry of a decoded initializer. */
export function tensorInfo(record: TensorRecord): TensorInfo {
  return {
    name: record.name,
    dtype: dtypeName(record.dataType),
    dataType: record.dataType,
    shape: [...record.dims],
    elementCount: record.elementCount,
    isFloat: floatDType(record.dataType) !== undefined,
  };
}

/** `"fc.weight" float32 [10, 128]`, the form every manifest message uses. */
export function formatTensorInfo(info: TensorInfo): string {
  return `"${info.name}" ${info.dtype} [${info.shape.join(', ')}]`;
}

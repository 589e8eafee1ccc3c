/**
 * The few ONNX protobuf field numbers the engine needs (onnx/onnx.proto). Everything else is carried as opaque
 * bytes, which is why a newer IR version's fields survive a rewrite.
 */
export const ModelField = {
  IR_VERSION: 1,
  PRODUCER_NAME: 2,
  PRODUCER_VERSION: 3,
  DOMAIN: 4,
  MODEL_VERSION: 5,
  DOC_STRING: 6,
  GRAPH: 7,
  OPSET_IMPORT: 8,
  METADATA_PROPS: 14,
  TRAINING_INFO: 20,
  FUNCTIONS: 25,
  CONFIGURATION: 26,
} as const;

/** GraphProto fields. */
export const GraphField = {
  NODE: 1,
  NAME: 2,
  INITIALIZER: 5,
  DOC_STRING: 10,
  INPUT: 11,
  OUTPUT: 12,
  VALUE_INFO: 13,
  QUANTIZATION_ANNOTATION: 14,
  SPARSE_INITIALIZER: 15,
  METADATA_PROPS: 16,
} as const;

/** TensorProto fields. */
export const TensorField = {
  DIMS: 1,
  DATA_TYPE: 2,
  SEGMENT: 3,
  FLOAT_DATA: 4,
  INT32_DATA: 5,
  STRING_DATA: 6,
  INT64_DATA: 7,
  NAME: 8,
  RAW_DATA: 9,
  DOUBLE_DATA: 10,
  UINT64_DATA: 11,
  DOC_STRING: 12,
  EXTERNAL_DATA: 13,
  DATA_LOCATION: 14,
  METADATA_PROPS: 16,
} as const;

/** The TensorProto fields that hold values; exactly one storage form may be used. */
export const TYPED_VALUE_FIELDS: ReadonlySet<number> = new Set([4, 5, 6, 7, 10, 11]);

/** Protobuf wire types. */
export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

/** The float element types the strategies average. */
export type FloatDType = 'float32' | 'float16' | 'float64' | 'bfloat16';

interface DTypeInfo {
  readonly name: string;
  readonly bytes: number;
}

/** TensorProto.DataType codes with their names (as onnxruntime spells them) and element sizes (0: variable). */
const DTYPES: ReadonlyMap<number, DTypeInfo> = new Map([
  [1, { name: 'float32', bytes: 4 }],
  [2, { name: 'uint8', bytes: 1 }],
  [3, { name: 'int8', bytes: 1 }],
  [4, { name: 'uint16', bytes: 2 }],
  [5, { name: 'int16', bytes: 2 }],
  [6, { name: 'int32', bytes: 4 }],
  [7, { name: 'int64', bytes: 8 }],
  [8, { name: 'string', bytes: 0 }],
  [9, { name: 'bool', bytes: 1 }],
  [10, { name: 'float16', bytes: 2 }],
  [11, { name: 'float64', bytes: 8 }],
  [12, { name: 'uint32', bytes: 4 }],
  [13, { name: 'uint64', bytes: 8 }],
  [14, { name: 'complex64', bytes: 8 }],
  [15, { name: 'complex128', bytes: 16 }],
  [16, { name: 'bfloat16', bytes: 2 }],
  [17, { name: 'float8e4m3fn', bytes: 1 }],
  [18, { name: 'float8e4m3fnuz', bytes: 1 }],
  [19, { name: 'float8e5m2', bytes: 1 }],
  [20, { name: 'float8e5m2fnuz', bytes: 1 }],
]);

const FLOAT_CODES: ReadonlyMap<number, FloatDType> = new Map([
  [1, 'float32'],
  [10, 'float16'],
  [11, 'float64'],
  [16, 'bfloat16'],
]);

/** The name of a TensorProto.DataType code; unknown or sub-byte codes read `dtype_<code>`. */
export function dtypeName(dataType: number): string {
  return DTYPES.get(dataType)?.name ?? `dtype_${dataType}`;
}

/** Bytes per element in `raw_data`, or undefined when the type has no fixed width the engine knows. */
export function dtypeBytes(dataType: number): number | undefined {
  const bytes = DTYPES.get(dataType)?.bytes;
  return bytes === undefined || bytes === 0 ? undefined : bytes;
}

/** The float type a code stands for, or undefined for every type the strategies do not average. */
export function floatDType(dataType: number): FloatDType | undefined {
  return FLOAT_CODES.get(dataType);
}

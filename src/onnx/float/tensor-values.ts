import { AggregationError, malformed } from '../../aggregation/errors';
import { dtypeBytes, dtypeName, floatDType, TensorField, WireType } from '../schema';
import type { FloatDType } from '../schema';
import type { TensorRecord, ValueField } from '../tensor-record';
import { skipVarint } from '../wire';
import { bfloat16ToNumber, float16ToNumber } from './half-precision';
import type { FloatScratch } from './scratch';

// Every typed-array view here reads ONNX's little-endian bytes in host order; Node runs on little-endian hosts only.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('the aggregation engine needs a little-endian host');
}

/** Values of a float initializer: float32 and the half types widen to Float32Array, float64 stays Float64Array. */
export type FloatValues = Float32Array | Float64Array;

/** The typed field each float type uses when it does not use raw_data. */
const TYPED_FIELD: Record<FloatDType, number> = {
  float32: TensorField.FLOAT_DATA,
  float64: TensorField.DOUBLE_DATA,
  float16: TensorField.INT32_DATA,
  bfloat16: TensorField.INT32_DATA,
};

/**
 * The raw little-endian bytes of a float32 initializer stored in raw_data (checked against its shape), or
 * undefined for any other type or storage. Lets a fold read values in place instead of copying them first.
 */
export function rawFloat32Bytes(tensor: TensorRecord): Uint8Array | undefined {
  const raw = tensor.rawData;
  if (tensor.dataType !== 1 || raw === undefined || tensor.externalLocation !== undefined) {
    return undefined;
  }
  if (raw.end - raw.start !== 4 * tensor.elementCount) {
    // Let the full decoder report the mismatch with its usual message.
    readFloatValues(tensor);
  }
  return tensor.payload.subarray(raw.start, raw.end);
}

/** Decodes a float initializer's values from raw_data or its typed field; refuses external and misshapen data. */
export function readFloatValues(tensor: TensorRecord, scratch?: FloatScratch): FloatValues {
  const dtype = floatStorage(tensor);
  const count = tensor.elementCount;
  const out =
    dtype === 'float64'
      ? (scratch?.float64(count) ?? new Float64Array(count))
      : (scratch?.float32(count) ?? new Float32Array(count));
  if (tensor.rawData !== undefined) {
    return readRaw(tensor, dtype, out);
  }
  let filled = 0;
  for (const span of tensor.valueFields) {
    checkTypedField(tensor, span, dtype);
    filled = readTyped(tensor, span, dtype, out, filled);
  }
  if (filled !== tensor.elementCount) {
    throw countMismatch(tensor, filled);
  }
  return out;
}

/** The float type of an initializer whose values are in the model; refuses other types and external data. */
export function floatStorage(tensor: TensorRecord): FloatDType {
  const dtype = floatDType(tensor.dataType);
  const subject = { tensor: tensor.name };
  if (dtype === undefined) {
    throw malformed(`initializer "${tensor.name}" is ${dtypeName(tensor.dataType)}, not a float type`, subject);
  }
  if (tensor.externalLocation !== undefined) {
    throw new AggregationError(
      'model_external_data',
      `initializer "${tensor.name}" keeps its data in an external file (${tensor.externalLocation}); export with external_data=False`,
      subject,
    );
  }
  return dtype;
}

/** The raw_data bytes, checked against the tensor's shape. */
export function rawValueBytes(tensor: TensorRecord, dtype: FloatDType): Uint8Array {
  const span = tensor.rawData ?? { start: 0, end: 0 };
  const bytes = tensor.payload.subarray(span.start, span.end);
  checkRawLength(tensor, dtype, bytes.length);
  return bytes;
}

/** Refuses raw_data of `length` bytes that does not fit the tensor's shape. */
export function checkRawLength(tensor: TensorRecord, dtype: FloatDType, length: number): void {
  const needed = tensor.elementCount * (dtypeBytes(tensor.dataType) ?? 0);
  if (length !== needed) {
    throw malformed(
      `initializer "${tensor.name}" has ${length} bytes of raw_data; ${dtype} [${tensor.dims.join(', ')}] needs ${needed}`,
      { tensor: tensor.name },
    );
  }
}

/** Refuses a value field other than the one the float type uses. */
export function checkTypedField(tensor: TensorRecord, span: ValueField, dtype: FloatDType): void {
  if (span.field !== TYPED_FIELD[dtype]) {
    throw malformed(`initializer "${tensor.name}" (${dtype}) holds values in TensorProto field ${span.field}`, {
      tensor: tensor.name,
    });
  }
}

/** A typed value field's values: its bytes without the tag (and, when packed, the length prefix). */
export function typedValueBytes(tensor: TensorRecord, span: ValueField): Uint8Array {
  const bytes = tensor.payload.subarray(span.start, span.end);
  const afterTag = skipVarint(bytes, 0);
  return bytes.subarray(span.wireType === WireType.LEN ? skipVarint(bytes, afterTag) : afterTag);
}

function readRaw(tensor: TensorRecord, dtype: FloatDType, out: FloatValues): FloatValues {
  const bytes = rawValueBytes(tensor, dtype);
  if (dtype === 'float32' || dtype === 'float64') {
    // A byte copy into an aligned array: raw_data usually starts at an odd offset inside the TensorProto.
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const widen = dtype === 'float16' ? float16ToNumber : bfloat16ToNumber;
  for (let i = 0; i < out.length; i++) {
    out[i] = widen(view.getUint16(2 * i, true));
  }
  return out;
}

function readTyped(
  tensor: TensorRecord,
  span: ValueField,
  dtype: FloatDType,
  out: FloatValues,
  filled: number,
): number {
  const body = typedValueBytes(tensor, span);
  if (dtype === 'float32' || dtype === 'float64') {
    const width = dtype === 'float32' ? 4 : 8;
    if (filled + body.length / width > out.length || body.length % width !== 0) {
      throw countMismatch(tensor, filled + Math.floor(body.length / width));
    }
    new Uint8Array(out.buffer, out.byteOffset + filled * width, body.length).set(body);
    return filled + body.length / width;
  }
  const widen = dtype === 'float16' ? float16ToNumber : bfloat16ToNumber;
  let value = 0;
  let shift = 0;
  for (const byte of body) {
    // Only the low 16 bits matter (the bit pattern); later bytes of a sign-extended varint are ignored.
    if (shift < 28) {
      value += (byte & 0x7f) * 2 ** shift;
    }
    shift += 7;
    if (byte < 0x80) {
      if (filled >= out.length) {
        throw countMismatch(tensor, filled + 1);
      }
      out[filled++] = widen(value % 0x10000);
      value = 0;
      shift = 0;
    }
  }
  return filled;
}

/** The error for a tensor whose value fields hold `found` values where its shape needs another count. */
export function countMismatch(tensor: TensorRecord, found: number): AggregationError {
  return malformed(
    `initializer "${tensor.name}" holds ${found} values; its shape [${tensor.dims.join(', ')}] needs ${tensor.elementCount}`,
    { tensor: tensor.name },
  );
}

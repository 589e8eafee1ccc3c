import { bfloat16ToNumber, float16ToNumber } from '../../onnx/float/half-precision';
/** The element types npy and safetensors files may hold; model inputs are converted to float32, datasets to float64. */
export type ElementType = 'f2' | 'bf16' | 'f4' | 'f8' | 'b1' | 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8';

/** Bytes per element of each type. */
export const ELEMENT_BYTES: Readonly<Record<ElementType, number>> = {
  f2: 2,
  bf16: 2,
  f4: 4,
  f8: 8,
  b1: 1,
  i1: 1,
  u1: 1,
  i2: 2,
  u2: 2,
  i4: 4,
  u4: 4,
  i8: 8,
  u8: 8,
};

type Reader = (view: DataView, offset: number, littleEndian: boolean) => number;

const READERS: Readonly<Record<ElementType, Reader>> = {
  f2: (view, offset, le) => float16ToNumber(view.getUint16(offset, le)),
  // bfloat16 is the top half of a float32.
  bf16: (view, offset, le) => bfloat16ToNumber(view.getUint16(offset, le)),
  f4: (view, offset, le) => view.getFloat32(offset, le),
  f8: (view, offset, le) => view.getFloat64(offset, le),
  b1: (view, offset) => (view.getUint8(offset) === 0 ? 0 : 1),
  i1: (view, offset) => view.getInt8(offset),
  u1: (view, offset) => view.getUint8(offset),
  i2: (view, offset, le) => view.getInt16(offset, le),
  u2: (view, offset, le) => view.getUint16(offset, le),
  i4: (view, offset, le) => view.getInt32(offset, le),
  u4: (view, offset, le) => view.getUint32(offset, le),
  i8: (view, offset, le) => Number(view.getBigInt64(offset, le)),
  u8: (view, offset, le) => Number(view.getBigUint64(offset, le)),
};

/**
 * Converts `elements` values of `type` at the start of `bytes` to float32 (integers beyond 2^24 and float64 values
 * lose precision, as any cast to float32 does). The caller has checked that `bytes` is long enough.
 */
export function toFloat32(bytes: Uint8Array, type: ElementType, littleEndian: boolean, elements: number): Float32Array {
  return convert(new Float32Array(elements), bytes, type, littleEndian);
}

/**
 * Converts `elements` values of `type` at the start of `bytes` to float64: exact for every type except 64-bit
 * integers beyond 2^53. The caller has checked that `bytes` is long enough.
 */
export function toFloat64(bytes: Uint8Array, type: ElementType, littleEndian: boolean, elements: number): Float64Array {
  return convert(new Float64Array(elements), bytes, type, littleEndian);
}

function convert<T extends Float32Array | Float64Array>(
  out: T,
  bytes: Uint8Array,
  type: ElementType,
  littleEndian: boolean,
): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = READERS[type];
  const width = ELEMENT_BYTES[type];
  for (let i = 0; i < out.length; i++) {
    out[i] = read(view, i * width, littleEndian);
  }
  return out;
}

import type { FloatDType } from '../schema';
import type { TensorRecord } from '../tensor-record';
import { checkTypedField, countMismatch, floatStorage, rawValueBytes, typedValueBytes } from './tensor-values';
import { bfloat16ToNumber, float16ToNumber } from './half-precision';

/** How one value sits in the bytes: fixed-width little-endian, or a varint whose low 16 bits are a half float. */
type Encoding = 'float32' | 'float64' | 'half' | 'varint-half';

/** Bytes per value of the fixed-width encodings. */
const WIDTH = { float32: 4, float64: 8, half: 2 } as const;

/**
 * Reads a float initializer's values in order, a chunk at a time, widened to float64 straight from the record's
 * bytes: nothing the size of the tensor is allocated. It refuses what `readFloatValues` refuses (a type that is not
 * float, external data, a value count that does not fit the shape) when it is created, before any value is read.
 */
export class FloatChunkReader {
  private readonly bodies: DataView[];
  private readonly encoding: Encoding;
  private readonly widen: (bits: number) => number;
  /** The body being read and the byte position in it. */
  private body = 0;
  private at = 0;

  constructor(tensor: TensorRecord) {
    const dtype = floatStorage(tensor);
    this.widen = dtype === 'bfloat16' ? bfloat16ToNumber : float16ToNumber;
    const raw = tensor.rawData !== undefined;
    this.encoding = encodingOf(dtype, raw);
    const bodies = raw
      ? [rawValueBytes(tensor, dtype)]
      : tensor.valueFields.map((span) => {
          checkTypedField(tensor, span, dtype);
          return typedValueBytes(tensor, span);
        });
    const encoding = this.encoding;
    const count = bodies.reduce((sum, bytes) => sum + valueCount(bytes, encoding), 0);
    const partial = encoding !== 'varint-half' && bodies.some((bytes) => bytes.length % WIDTH[encoding] !== 0);
    if (count !== tensor.elementCount || partial) {
      throw countMismatch(tensor, count);
    }
    this.bodies = bodies.map((bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Fills `out` with the next `out.length` values; the caller reads no more than the tensor holds. */
  read(out: Float64Array): void {
    let filled = 0;
    while (filled < out.length) {
      const view = this.bodies[this.body];
      if (view === undefined) {
        throw new Error('read past the last value of a tensor');
      }
      filled = this.readFrom(view, out, filled);
      if (this.at >= view.byteLength) {
        this.body += 1;
        this.at = 0;
      }
    }
  }

  /** Reads from one body into out[filled…] until either is used up; returns the new fill. */
  private readFrom(view: DataView, out: Float64Array, filled: number): number {
    if (this.encoding === 'varint-half') {
      const end = readVarintHalves(view, this.at, out, filled, this.widen);
      this.at = end.at;
      return end.filled;
    }
    const width = WIDTH[this.encoding];
    const count = Math.min(out.length - filled, (view.byteLength - this.at) / width);
    const target = out.subarray(filled, filled + count);
    if (this.encoding === 'float32') {
      readFloat32(view, this.at, target);
    } else if (this.encoding === 'float64') {
      readFloat64(view, this.at, target);
    } else {
      readHalves(view, this.at, target, this.widen);
    }
    this.at += count * width;
    return filled + count;
  }
}

function encodingOf(dtype: FloatDType, raw: boolean): Encoding {
  if (dtype === 'float32' || dtype === 'float64') {
    return dtype;
  }
  return raw ? 'half' : 'varint-half';
}

/** How many (whole) values a body holds. */
function valueCount(bytes: Uint8Array, encoding: Encoding): number {
  if (encoding !== 'varint-half') {
    return Math.floor(bytes.length / WIDTH[encoding]);
  }
  // Each varint ends at its one byte below 0x80.
  let count = 0;
  for (const byte of bytes) {
    count += byte < 0x80 ? 1 : 0;
  }
  return count;
}

// Monomorphic loops, one per encoding: DataView reads unaligned little-endian values as fast as a copy.
function readFloat32(view: DataView, at: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = view.getFloat32(at + 4 * i, true);
  }
}

function readFloat64(view: DataView, at: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = view.getFloat64(at + 8 * i, true);
  }
}

function readHalves(view: DataView, at: number, out: Float64Array, widen: (bits: number) => number): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = widen(view.getUint16(at + 2 * i, true));
  }
}

/** Decodes int32_data varints (only their low 16 bits matter: the half's bit pattern) until out or the body ends. */
function readVarintHalves(
  view: DataView,
  start: number,
  out: Float64Array,
  filled: number,
  widen: (bits: number) => number,
): { at: number; filled: number } {
  let at = start;
  let value = 0;
  let shift = 0;
  while (filled < out.length && at < view.byteLength) {
    const byte = view.getUint8(at++);
    // Later bytes of a sign-extended varint are ignored.
    if (shift < 28) {
      value += (byte & 0x7f) * 2 ** shift;
    }
    shift += 7;
    if (byte < 0x80) {
      out[filled++] = widen(value % 0x10000);
      value = 0;
      shift = 0;
    }
  }
  return { at, filled };
}

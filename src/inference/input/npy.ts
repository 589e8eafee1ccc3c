import { inputError } from '../../errors';
import type { FloatTensor } from '../tensor';
import { ELEMENT_BYTES, type ElementType, toFloat32 } from './element-types';
import { checkDims, checkFinite, type InputLimits } from './input-limits';

/** The 6 bytes every .npy file starts with. */
export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

const NPY_KINDS: Readonly<Record<string, ElementType>> = {
  f2: 'f2',
  f4: 'f4',
  f8: 'f8',
  b1: 'b1',
  i1: 'i1',
  u1: 'u1',
  i2: 'i2',
  u2: 'u2',
  i4: 'i4',
  u4: 'u4',
  i8: 'i8',
  u8: 'u8',
};

/** A .npy header: the element type, byte order, memory order, shape and the `descr` as written. */
export interface NpyHeader {
  readonly type: ElementType;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly dims: number[];
  readonly descr: string;
}

/** How messages about a .npy file name it and the dtypes its reader accepts. */
export interface NpySubject {
  /** Starts every message: `Model input`, `Dataset file 'x'`. */
  readonly name: string;
  /** The accepted dtypes, in words, for the message about an unknown one. */
  readonly supported: string;
}

const MODEL_INPUT: NpySubject = { name: 'Model input', supported: 'float16/32/64, (u)int8/16/32/64 and bool' };

/**
 * Reads a NumPy .npy file (format 1.0, 2.0 or 3.0) of a numeric or boolean dtype, either byte order, into a
 * row-major float32 tensor; Fortran-ordered data is transposed. Object arrays are refused without being unpickled.
 * @throws 400 for a malformed header, an unsupported dtype, or data that does not match the shape.
 */
export function decodeNpy(bytes: Uint8Array, limits: InputLimits): FloatTensor {
  const { header, dataStart } = readNpyHeader(bytes, MODEL_INPUT);
  const elements = checkDims(header.dims, limits);
  const raw = npyData(bytes, dataStart, header, elements, MODEL_INPUT);
  const values = toFloat32(raw, header.type, header.littleEndian, elements);
  const data = header.fortranOrder ? fortranToRowMajor(values, header.dims) : values;
  checkFinite(data);
  return { dims: header.dims, data };
}

/**
 * Reads the header of a .npy file (format 1.0, 2.0 or 3.0) of a numeric or boolean dtype; object arrays are refused
 * without being unpickled.
 * @returns the header and the offset where the data starts.
 * @throws 400 (`npy_malformed`, `npy_dtype`) naming the file as `subject` says.
 */
export function readNpyHeader(bytes: Uint8Array, subject: NpySubject): { header: NpyHeader; dataStart: number } {
  const { header, dataStart } = splitNpy(bytes, subject);
  return { header: parseNpyHeader(header, subject), dataStart };
}

/**
 * The data bytes of a .npy file, as written (byte order and memory order as the header says).
 * @throws 400 `npy_malformed` when their count is not what `elements` values of the header's type need.
 */
export function npyData(
  bytes: Uint8Array,
  dataStart: number,
  header: NpyHeader,
  elements: number,
  subject: NpySubject,
): Uint8Array {
  const needed = elements * ELEMENT_BYTES[header.type];
  const available = bytes.length - dataStart;
  if (available !== needed) {
    throw npyError(
      subject,
      `it has ${available} data bytes, but shape (${header.dims.join(', ')}) of ${header.descr} needs ${needed}`,
    );
  }
  return bytes.subarray(dataStart);
}

function splitNpy(bytes: Uint8Array, subject: NpySubject): { header: string; dataStart: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const magic = NPY_MAGIC.every((byte, i) => bytes[i] === byte);
  if (!magic || bytes.length < 10 || (major !== 1 && major !== 2 && major !== 3)) {
    const problem = magic
      ? `format version ${major ?? '?'}.${bytes[7] ?? '?'} is not supported (1.0, 2.0 and 3.0 are)`
      : 'it does not start with the .npy magic bytes';
    throw npyError(subject, problem);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) {
    throw npyError(subject, 'the file ends inside its header length');
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerStart + headerLength > bytes.length) {
    throw npyError(
      subject,
      `the header claims ${headerLength} bytes, but the file has ${bytes.length - headerStart} after it`,
    );
  }
  const encoding = major === 3 ? 'utf8' : 'latin1';
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLength).toString(encoding);
  return { header, dataStart: headerStart + headerLength };
}

/** Reads the header's Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseNpyHeader(header: string, subject: NpySubject): NpyHeader {
  const text = header.trim();
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(text)?.[1];
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!text.startsWith('{') || !text.endsWith('}') || fortran === undefined || shape === undefined) {
    throw npyError(
      subject,
      `the header is not a dict with 'descr', 'fortran_order' and 'shape': ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  if (descr === undefined) {
    throw npyError(subject, "the header's 'descr' is not a string (structured dtypes are not supported)");
  }
  return {
    ...parseDescr(descr, subject),
    descr,
    fortranOrder: fortran === 'True',
    dims: parseShape(shape, subject),
  };
}

function parseDescr(descr: string, subject: NpySubject): { type: ElementType; littleEndian: boolean } {
  const match = /^([<>|=])([a-zA-Z])(\d*)$/.exec(descr);
  if (match?.[2] === 'O') {
    throw inputError(
      'npy_dtype',
      `${subject.name} .npy holds an object array: pickled object arrays are not accepted.`,
    );
  }
  const type = match ? NPY_KINDS[`${match[2]}${match[3]}`] : undefined;
  if (!match || type === undefined) {
    throw inputError(
      'npy_dtype',
      `${subject.name} .npy has dtype ${JSON.stringify(descr)}; supported are ${subject.supported}.`,
    );
  }
  return { type, littleEndian: match[1] !== '>' };
}

function parseShape(inner: string, subject: NpySubject): number[] {
  const parts = inner
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.map((part) => {
    if (!/^\d+L?$/.test(part)) {
      throw npyError(subject, `its shape (${inner}) is not a tuple of non-negative integers`);
    }
    return Number.parseInt(part, 10);
  });
}

/**
 * The data of a .npy file (`npyData`) as little-endian, row-major bytes, the layout safetensors stores: a copy when
 * the file is big-endian or Fortran-ordered, else `data` itself.
 */
export function npyLittleEndianRowMajor(data: Uint8Array, header: NpyHeader): Uint8Array {
  const width = ELEMENT_BYTES[header.type];
  const swap = !header.littleEndian && width > 1;
  if (!swap && !header.fortranOrder) {
    return data;
  }
  const out = new Uint8Array(data.length);
  const place = (target: number, source: number): void => {
    for (let b = 0; b < width; b++) {
      out[target * width + b] = data[source * width + (swap ? width - 1 - b : b)] ?? 0;
    }
  };
  if (header.fortranOrder) {
    forEachFortranSource(header.dims, place);
  } else {
    for (let i = 0; i < data.length / width; i++) {
      place(i, i);
    }
  }
  return out;
}

/** Reorders column-major values (first index fastest) into row-major (last index fastest). */
function fortranToRowMajor(values: Float32Array, dims: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  forEachFortranSource(dims, (target, source) => {
    out[target] = values[source] ?? 0;
  });
  return out;
}

/** Calls `visit` with each row-major index of an array of shape `dims` and the column-major index of that element. */
function forEachFortranSource(dims: readonly number[], visit: (target: number, source: number) => void): void {
  const rank = dims.length;
  const strides: number[] = [];
  let stride = 1;
  for (const dim of dims) {
    strides.push(stride);
    stride *= dim;
  }
  const counter = new Array<number>(rank).fill(0);
  let source = 0;
  for (let target = 0; target < stride; target++) {
    visit(target, source);
    // Advance the row-major counter like an odometer, keeping the column-major offset in step.
    for (let k = rank - 1; k >= 0; k--) {
      counter[k] = (counter[k] ?? 0) + 1;
      source += strides[k] ?? 0;
      if (counter[k] !== dims[k] || k === 0) {
        break;
      }
      counter[k] = 0;
      source -= (strides[k] ?? 0) * (dims[k] ?? 0);
    }
  }
}

function npyError(subject: NpySubject, problem: string): ReturnType<typeof inputError> {
  return inputError('npy_malformed', `${subject.name} is not a valid .npy file: ${problem}.`);
}

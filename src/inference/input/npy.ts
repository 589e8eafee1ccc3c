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

interface NpyHeader {
  readonly type: ElementType;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly dims: number[];
  readonly descr: string;
}

/**
 * Reads a NumPy .npy file (format 1.0, 2.0 or 3.0) of a numeric or boolean dtype, either byte order, into a
 * row-major float32 tensor; Fortran-ordered data is transposed. Object arrays are refused without being unpickled.
 * @throws 400 for a malformed header, an unsupported dtype, or data that does not match the shape.
 */
export function decodeNpy(bytes: Uint8Array, limits: InputLimits): FloatTensor {
  const { header, dataStart } = splitNpy(bytes);
  const parsed = parseNpyHeader(header);
  const elements = checkDims(parsed.dims, limits);
  const needed = elements * ELEMENT_BYTES[parsed.type];
  const available = bytes.length - dataStart;
  if (available !== needed) {
    throw npyError(
      `it has ${available} data bytes, but shape (${parsed.dims.join(', ')}) of ${parsed.descr} needs ${needed}`,
    );
  }
  const values = toFloat32(bytes.subarray(dataStart), parsed.type, parsed.littleEndian, elements);
  const data = parsed.fortranOrder ? fortranToRowMajor(values, parsed.dims) : values;
  checkFinite(data);
  return { dims: parsed.dims, data };
}

function splitNpy(bytes: Uint8Array): { header: string; dataStart: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (bytes.length < 10 || (major !== 1 && major !== 2 && major !== 3)) {
    throw npyError(`format version ${major ?? '?'}.${bytes[7] ?? '?'} is not supported (1.0, 2.0 and 3.0 are)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) {
    throw npyError('the file ends inside its header length');
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerStart + headerLength > bytes.length) {
    throw npyError(`the header claims ${headerLength} bytes, but the file has ${bytes.length - headerStart} after it`);
  }
  const encoding = major === 3 ? 'utf8' : 'latin1';
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLength).toString(encoding);
  return { header, dataStart: headerStart + headerLength };
}

/** Reads the header's Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseNpyHeader(header: string): NpyHeader {
  const text = header.trim();
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(text)?.[1];
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!text.startsWith('{') || !text.endsWith('}') || fortran === undefined || shape === undefined) {
    throw npyError(
      `the header is not a dict with 'descr', 'fortran_order' and 'shape': ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  if (descr === undefined) {
    throw npyError("the header's 'descr' is not a string (structured dtypes are not supported)");
  }
  return { ...parseDescr(descr), descr, fortranOrder: fortran === 'True', dims: parseShape(shape) };
}

function parseDescr(descr: string): { type: ElementType; littleEndian: boolean } {
  const match = /^([<>|=])([a-zA-Z])(\d*)$/.exec(descr);
  if (match?.[2] === 'O') {
    throw inputError('npy_dtype', 'Model input .npy holds an object array: pickled object arrays are not accepted.');
  }
  const type = match ? NPY_KINDS[`${match[2]}${match[3]}`] : undefined;
  if (!match || type === undefined) {
    throw inputError(
      'npy_dtype',
      `Model input .npy has dtype ${JSON.stringify(descr)}; supported are float16/32/64, (u)int8/16/32/64 and bool.`,
    );
  }
  return { type, littleEndian: match[1] !== '>' };
}

function parseShape(inner: string): number[] {
  const parts = inner
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.map((part) => {
    if (!/^\d+L?$/.test(part)) {
      throw npyError(`its shape (${inner}) is not a tuple of non-negative integers`);
    }
    return Number.parseInt(part, 10);
  });
}

/** Reorders column-major values (first index fastest) into row-major (last index fastest). */
function fortranToRowMajor(values: Float32Array, dims: readonly number[]): Float32Array {
  const rank = dims.length;
  const strides: number[] = [];
  let stride = 1;
  for (const dim of dims) {
    strides.push(stride);
    stride *= dim;
  }
  const counter = new Array<number>(rank).fill(0);
  const out = new Float32Array(values.length);
  let source = 0;
  for (let target = 0; target < values.length; target++) {
    out[target] = values[source] ?? 0;
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
  return out;
}

function npyError(problem: string): ReturnType<typeof inputError> {
  return inputError('npy_malformed', `Model input is not a valid .npy file: ${problem}.`);
}

import { AggregationError } from './errors';

/** A named float32 tensor as safetensors holds it. */
export interface Float32Tensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** A parsed safetensors file: tensors in file order plus the optional string metadata. */
export interface SafetensorsFile {
  readonly tensors: Map<string, Float32Tensor>;
  readonly metadata: Record<string, string>;
}

/** Headers beyond this are corrupt or hostile (the reference implementation caps them at 100 MB). */
const MAX_HEADER = 100_000_000;

/** Reads a safetensors file of F32 tensors (SWAG moments, datasets); any other dtype or a bad header is refused. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { tensors, metadata } = readSafetensorsOf(bytes, 'F32');
  return { tensors: tensors as Map<string, Float32Tensor>, metadata };
}

/** Reads a safetensors file of F64 tensors (strategy state); any other dtype or a bad header is refused. */
export function readSafetensors64(bytes: Uint8Array): {
  tensors: Map<string, Float64Tensor>;
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = readSafetensorsOf(bytes, 'F64');
  return { tensors: tensors as Map<string, Float64Tensor>, metadata };
}

/** A tensor as read, F32 or F64 by the dtype asked for. */
interface FloatTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array | Float64Array;
}

function readSafetensorsOf(
  bytes: Uint8Array,
  dtype: 'F32' | 'F64',
): { tensors: Map<string, FloatTensor>; metadata: Record<string, string> } {
  const { tensors: raw, metadata } = readSafetensorsRaw(bytes);
  const tensors = new Map<string, FloatTensor>();
  for (const [name, tensor] of raw) {
    if (tensor.dtype !== dtype) {
      throw invalid(`tensor "${name}" is ${tensor.dtype}; only ${dtype} is supported`);
    }
    const values = dtype === 'F32' ? new Float32Array(tensor.elements) : new Float64Array(tensor.elements);
    new Uint8Array(values.buffer).set(tensor.bytes);
    tensors.set(name, { shape: tensor.shape, values });
  }
  return { tensors, metadata };
}

/** Bytes per element of the safetensors dtypes whose sizes are checked on reading. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor as stored: its dtype name, shape, element count and little-endian bytes (a view into the file). */
export interface RawSafetensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly elements: number;
  readonly bytes: Uint8Array;
}

/**
 * Reads a safetensors file of any dtypes without converting them: the header, the tensors' bounds and (for the dtypes
 * in SAFETENSORS_DTYPE_BYTES) their sizes are checked; converting the bytes is left to the caller.
 */
export function readSafetensorsRaw(bytes: Uint8Array): {
  tensors: Map<string, RawSafetensor>;
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) {
    throw invalid('the file is shorter than its 8-byte header length');
  }
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) {
    throw invalid(`the header claims ${headerLength} bytes, but the file has ${bytes.length - 8} after the length`);
  }
  const header = parseHeader(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  const data = bytes.subarray(8 + headerLength);
  const tensors = new Map<string, RawSafetensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = readMetadata(entry);
      continue;
    }
    tensors.set(name, readTensor(name, entry, data));
  }
  return { tensors, metadata };
}

/** A named float64 tensor (strategy state keeps full precision between rounds). */
export interface Float64Tensor {
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

/**
 * Writes named float32 or float64 tensors (in the given order) as safetensors (F32 or F64 by array type), header
 * padded to 8 bytes as the reference does.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, Float32Tensor | Float64Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (tensor.values.length !== tensor.shape.reduce((a, b) => a * b, 1)) {
      throw invalid(`tensor "${name}" has ${tensor.values.length} values for shape [${tensor.shape.join(', ')}]`);
    }
    const dtype = tensor.values instanceof Float64Array ? 'F64' : 'F32';
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.values.byteLength] };
    offset += tensor.values.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.fill(0x20, 8, 8 + padded);
  out.set(json, 8);
  let at = 8 + padded;
  for (const tensor of tensors.values()) {
    out.set(new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength), at);
    at += tensor.values.byteLength;
  }
  return out;
}

function parseHeader(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('the header is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('the header is not a JSON object');
  }
  return Object.fromEntries(Object.entries(parsed));
}

function readTensor(name: string, entry: unknown, data: Uint8Array): RawSafetensor {
  if (!isRecord(entry) || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
    throw invalid(`tensor "${name}" has no shape or data_offsets`);
  }
  const dtype = String(entry.dtype);
  // An unknown dtype's size cannot be checked here; the typed readers refuse it by name.
  const width = SAFETENSORS_DTYPE_BYTES[dtype];
  const shape = entry.shape.map((dim) => (Number.isSafeInteger(dim) && Number(dim) >= 0 ? Number(dim) : NaN));
  const [begin, end] = entry.data_offsets.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (
    begin === undefined ||
    end === undefined ||
    !Number.isSafeInteger(count) ||
    !Number.isSafeInteger(begin) ||
    end > data.length ||
    begin < 0 ||
    end < begin ||
    (width !== undefined && end - begin !== width * count)
  ) {
    throw invalid(
      `tensor "${name}" has shape [${shape.join(', ')}] and offsets [${begin}, ${end}], which do not fit the data`,
    );
  }
  return { dtype, shape, elements: count, bytes: data.subarray(begin, end) };
}

function readMetadata(entry: unknown): Record<string, string> {
  if (!isRecord(entry) || !Object.values(entry).every((value) => typeof value === 'string')) {
    throw invalid('__metadata__ must map strings to strings');
  }
  return Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, String(value)]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): AggregationError {
  return new AggregationError('safetensors_malformed', `invalid safetensors file: ${message}`);
}

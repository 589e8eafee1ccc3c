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
  const headerLength = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);
  const data = bytes.subarray(8 + headerLength);
  const { entries, metadata } = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLength), data.length);
  const tensors = new Map<string, RawSafetensor>();
  for (const [name, entry] of entries) {
    tensors.set(name, { ...entry, bytes: data.subarray(entry.begin, entry.end) });
  }
  return { tensors, metadata };
}

/** Where a tensor's bytes lie in the data section (after the header), with its dtype, shape and element count. */
export interface SafetensorEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly elements: number;
  readonly begin: number;
  readonly end: number;
}

/**
 * The header length a safetensors file's first 8 bytes give, checked against the file's length.
 * @throws AggregationError `safetensors_malformed` for a file too short or a header that cannot fit.
 */
export function safetensorsHeaderLength(prefix: Uint8Array, fileLength: number): number {
  if (prefix.length < 8 || fileLength < 8) {
    throw invalid('the file is shorter than its 8-byte header length');
  }
  const headerLength = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER || 8 + headerLength > fileLength) {
    throw invalid(`the header claims ${headerLength} bytes, but the file has ${fileLength - 8} after the length`);
  }
  return headerLength;
}

/**
 * Parses a safetensors header (the JSON after the length) for a data section of `dataLength` bytes: every tensor's
 * entry, in header order, bounds and sizes checked as `readSafetensorsRaw` says, and the string metadata.
 */
export function parseSafetensorsHeader(
  header: Uint8Array,
  dataLength: number,
): { entries: Map<string, SafetensorEntry>; metadata: Record<string, string> } {
  const parsed = parseHeader(Buffer.from(header.buffer, header.byteOffset, header.byteLength).toString('utf8'));
  const entries = new Map<string, SafetensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      metadata = readMetadata(entry);
      continue;
    }
    entries.set(name, readEntry(name, entry, dataLength));
  }
  return { entries, metadata };
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
  const raw = new Map<string, SafetensorToWrite>();
  for (const [name, tensor] of tensors) {
    const bytes = new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength);
    raw.set(name, { dtype: tensor.values instanceof Float64Array ? 'F64' : 'F32', shape: tensor.shape, bytes });
  }
  const parts = safetensorsParts(raw, metadata);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A tensor to write as safetensors stores it: dtype name, shape and little-endian, row-major bytes. */
export interface SafetensorToWrite {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/**
 * A safetensors file of `tensors` (in the given order) as its parts: the length and the header (padded to 8 bytes as
 * the reference does), then each tensor's bytes as given, not copied, so a large file streams without being joined.
 * @throws AggregationError `safetensors_malformed` when a tensor's bytes do not fit its dtype and shape.
 */
export function safetensorsParts(
  tensors: ReadonlyMap<string, SafetensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const width = SAFETENSORS_DTYPE_BYTES[tensor.dtype] ?? 1;
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.bytes.length !== width * count) {
      throw invalid(
        `tensor "${name}" has ${tensor.bytes.length / width} values for shape [${tensor.shape.join(', ')}]`,
      );
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.fill(0x20, 8);
  head.set(json, 8);
  return [head, ...[...tensors.values()].map((tensor) => tensor.bytes)];
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

function readEntry(name: string, entry: unknown, dataLength: number): SafetensorEntry {
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
    end > dataLength ||
    begin < 0 ||
    end < begin ||
    (width !== undefined && end - begin !== width * count)
  ) {
    throw invalid(
      `tensor "${name}" has shape [${shape.join(', ')}] and offsets [${begin}, ${end}], which do not fit the data`,
    );
  }
  return { dtype, shape, elements: count, begin, end };
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

import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32';
import { refusedFile, TorchArchiveError } from './errors';

/** One file in a zip, as its central directory and local header describe it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 for stored (PyTorch's storages and pickles), 8 for deflated (TorchScript's code files). */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  /** Where the entry's bytes start: PyTorch pads local headers so that storages start on 64-byte boundaries. */
  readonly dataOffset: number;
  /** The general purpose flags; bit 3 says a data descriptor (with the CRC-32) follows the data. */
  readonly flags: number;
  /** Where the entry's central directory record starts (its CRC-32 is at +16). */
  readonly centralHeaderOffset: number;
}

/** A zip's entries in directory order, and where its central directory starts. */
export interface ZipDirectory {
  readonly entries: readonly ZipEntry[];
  readonly centralDirectoryOffset: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const STORED = 0;
const DEFLATED = 8;
/** The end record is 22 bytes plus a comment of at most 65535. */
const MAX_END_SEARCH = 22 + 0xffff;
/** Far more entries than any model archive has; bounds the directory's cost. */
const MAX_ENTRIES = 100_000;

/**
 * Reads a zip's central directory and every entry's local header, checking that each entry's data lies inside the
 * file before the directory, that local and central names agree, and that no name repeats. Reads zip64 directories
 * and sizes; refuses encryption and spanned archives. A file that is not a zip is refused as such (and PyTorch's
 * legacy pickle format by name).
 */
export function readZipDirectory(bytes: Uint8Array): ZipDirectory {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint32(0, true) !== LOCAL_HEADER) {
    throw notZip(bytes);
  }
  const end = findEndRecord(bytes, view);
  const { count, size, offset } = directoryBounds(view, end);
  if (offset + size > end || count > MAX_ENTRIES) {
    throw malformed(`the central directory (${count} entries at byte ${offset}) does not fit before its end record`);
  }
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    const { entry, next } = readCentralEntry(bytes, view, at, { offset, end: offset + size });
    if (names.has(entry.name)) {
      throw malformed(`the entry ${entry.name} appears twice`);
    }
    names.add(entry.name);
    entries.push(entry);
    at = next;
  }
  if (at !== offset + size) {
    throw malformed(`the central directory holds ${at - offset} bytes of entries, not the ${size} it announces`);
  }
  checkDisjoint(entries);
  return { entries, centralDirectoryOffset: offset };
}

/**
 * Where the central directory is, from the end records alone (the last 64 KiB of the file and, for zip64, the
 * record the locator names): for a reader that fills a sparse copy of an archive before reading its directory.
 */
export function centralDirectoryRange(bytes: Uint8Array): { offset: number; size: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { size, offset } = directoryBounds(view, findEndRecord(bytes, view));
  return { offset, size };
}

/** Every entry's local header offset, from the central directory alone (with `centralDirectoryRange` filled). */
export function localHeaderOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndRecord(bytes, view);
  const { count, size, offset } = directoryBounds(view, end);
  const offsets: number[] = [];
  let at = offset;
  for (let i = 0; i < Math.min(count, MAX_ENTRIES); i++) {
    const record = readCentralRecord(bytes, view, at, { offset, end: offset + size });
    offsets.push(record.sizes.localHeaderOffset);
    at = record.next;
  }
  return offsets;
}

/** The bytes a reader of `localHeaderOffsets` must fill at each one before its name and extra field are known. */
export const LOCAL_HEADER_BYTES = 30;

/**
 * An entry's bytes: a view into `bytes` when stored, inflated when deflated (at most its announced size).
 * @param verify when true, the CRC-32 is checked and a mismatch refused.
 */
export function entryBytes(bytes: Uint8Array, entry: ZipEntry, verify = true): Uint8Array {
  const raw = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  const data = entry.method === STORED ? raw : inflate(raw, entry);
  if (data.length !== entry.size) {
    throw malformed(`the entry ${entry.name} holds ${data.length} bytes, not the ${entry.size} its header gives`);
  }
  if (verify) {
    verifyCrc(data, entry);
  }
  return data;
}

/** Refuses `data` unless its CRC-32 is the one the directory records for `entry`. */
export function verifyCrc(data: Uint8Array, entry: ZipEntry): void {
  const actual = crc32(data);
  if (actual !== entry.crc32) {
    throw crcMismatch(actual, entry);
  }
}

/** The refusal of an entry whose bytes have the CRC-32 `actual`, not the directory's. */
export function crcMismatch(actual: number, entry: ZipEntry): TorchArchiveError {
  return new TorchArchiveError(
    'torch_zip_crc_mismatch',
    `the entry ${entry.name} is corrupt: its CRC-32 is ${hex(actual)}, the zip directory says ${hex(entry.crc32)}`,
    { entry: entry.name },
  );
}

/** Refuses entries whose data runs into the next entry's local header: each entry's bytes must be its own. */
function checkDisjoint(entries: readonly ZipEntry[]): void {
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  byOffset.forEach((entry, i) => {
    const next = byOffset[i + 1];
    if (next !== undefined && entry.dataOffset + entry.compressedSize > next.localHeaderOffset) {
      throw malformed(`the entry ${entry.name} overlaps the entry ${next.name}`);
    }
  });
}

function notZip(bytes: Uint8Array): TorchArchiveError {
  // Legacy torch.save files are a run of pickles, the first (a magic number) starting with PROTO 2.
  if (bytes[0] === 0x80 && bytes[1] === 0x02) {
    return refusedFile(
      'torch_legacy_format',
      "The file is in PyTorch's legacy (pre-1.6) format, which can only be read by unpickling it, and unpickling runs code.",
    );
  }
  return refusedFile('torch_not_zip', 'The file is not a PyTorch zip archive (it does not start with a zip header).');
}

/** The offset of the end-of-central-directory record: the last signature whose comment ends the file. */
function findEndRecord(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - MAX_END_SEARCH);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY && at + 22 + view.getUint16(at + 20, true) === bytes.length) {
      return at;
    }
  }
  throw new TorchArchiveError('torch_zip_truncated', 'the zip is truncated: its end-of-directory record is missing');
}

/** The directory's entry count, size and offset, from the end record or, where it defers, the zip64 record. */
function directoryBounds(view: DataView, end: number): { count: number; size: number; offset: number } {
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0) {
    throw new TorchArchiveError('torch_zip_unsupported', 'the zip spans several disks');
  }
  const count = view.getUint16(end + 10, true);
  const size = view.getUint32(end + 12, true);
  const offset = view.getUint32(end + 16, true);
  if (count !== 0xffff && size !== 0xffffffff && offset !== 0xffffffff) {
    return { count, size, offset };
  }
  const locator = end - 20;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) {
    throw malformed('the end record defers to a zip64 record that is missing');
  }
  const record = safeNumber(view.getBigUint64(locator + 8, true), 'zip64 end record offset');
  if (record + 56 > locator || view.getUint32(record, true) !== ZIP64_END_OF_DIRECTORY) {
    throw malformed(`no zip64 end record at byte ${record}`);
  }
  return {
    count: safeNumber(view.getBigUint64(record + 32, true), 'zip64 entry count'),
    size: safeNumber(view.getBigUint64(record + 40, true), 'zip64 directory size'),
    offset: safeNumber(view.getBigUint64(record + 48, true), 'zip64 directory offset'),
  };
}

/** One central directory record at `at`, checked against its local header; entries' data ends where `directory` starts. */
function readCentralEntry(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  directory: { offset: number; end: number },
): { entry: ZipEntry; next: number } {
  const { name, flags, method, sizes, next } = readCentralRecord(bytes, view, at, directory);
  const limit = directory.offset;
  const dataOffset = localDataOffset(bytes, view, sizes.localHeaderOffset, name, limit);
  if (dataOffset + sizes.compressedSize > limit) {
    throw new TorchArchiveError('torch_zip_truncated', `the zip is truncated: the entry ${name} ends past its data`, {
      entry: name,
    });
  }
  if (method === STORED && sizes.compressedSize !== sizes.size) {
    throw malformed(`the stored entry ${name} has different stored and original sizes`);
  }
  const entry = {
    name,
    method,
    crc32: view.getUint32(at + 16, true),
    ...sizes,
    dataOffset,
    flags,
    centralHeaderOffset: at,
  };
  return { entry, next };
}

/** One central directory record at `at` by itself: name, flags, method, sizes and where the next one starts. */
function readCentralRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  directory: { offset: number; end: number },
): {
  name: string;
  flags: number;
  method: number;
  sizes: { size: number; compressedSize: number; localHeaderOffset: number };
  next: number;
} {
  if (at + 46 > directory.end || view.getUint32(at, true) !== CENTRAL_HEADER) {
    throw malformed(`no central directory record at byte ${at}`);
  }
  const flags = view.getUint16(at + 8, true);
  const method = view.getUint16(at + 10, true);
  const nameLength = view.getUint16(at + 28, true);
  const extraLength = view.getUint16(at + 30, true);
  const next = at + 46 + nameLength + extraLength + view.getUint16(at + 32, true);
  if (next > directory.end) {
    throw malformed(`the central directory record at byte ${at} runs past the directory's end`);
  }
  const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(at + 46, at + 46 + nameLength));
  if (flags & 1) {
    throw new TorchArchiveError('torch_zip_unsupported', `the entry ${name} is encrypted`, { entry: name });
  }
  if (method !== STORED && method !== DEFLATED) {
    throw new TorchArchiveError('torch_zip_unsupported', `the entry ${name} uses compression method ${method}`, {
      entry: name,
    });
  }
  const sizes = zip64Sizes(view, at + 46 + nameLength, extraLength, {
    size: view.getUint32(at + 24, true),
    compressedSize: view.getUint32(at + 20, true),
    localHeaderOffset: view.getUint32(at + 42, true),
  });
  return { name, flags, method, sizes, next };
}

/** The sizes and offset, with those the record sets to 0xFFFFFFFF read from its zip64 extra field, in order. */
function zip64Sizes(
  view: DataView,
  extraStart: number,
  extraLength: number,
  fields: { size: number; compressedSize: number; localHeaderOffset: number },
): { size: number; compressedSize: number; localHeaderOffset: number } {
  const deferred = (Object.keys(fields) as (keyof typeof fields)[]).filter((key) => fields[key] === 0xffffffff);
  if (deferred.length === 0) {
    return fields;
  }
  for (let at = extraStart; at + 4 <= extraStart + extraLength;) {
    const id = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA && length >= deferred.length * 8) {
      const result = { ...fields };
      deferred.forEach((key, i) => {
        result[key] = safeNumber(view.getBigUint64(at + 4 + i * 8, true), `zip64 ${key}`);
      });
      return result;
    }
    at += 4 + length;
  }
  throw malformed('an entry defers its sizes to a zip64 extra field that is missing');
}

/** Checks the local header at `offset` (signature, name) and returns where its data starts. */
function localDataOffset(bytes: Uint8Array, view: DataView, offset: number, name: string, limit: number): number {
  if (offset + 30 > limit || view.getUint32(offset, true) !== LOCAL_HEADER) {
    throw malformed(`the entry ${name} has no local header at byte ${offset}`);
  }
  const nameLength = view.getUint16(offset + 26, true);
  const dataOffset = offset + 30 + nameLength + view.getUint16(offset + 28, true);
  const localName = new TextDecoder().decode(bytes.subarray(offset + 30, offset + 30 + nameLength));
  if (localName !== name) {
    throw malformed(`the local header at byte ${offset} names ${localName}, the directory ${name}`);
  }
  return dataOffset;
}

function inflate(raw: Uint8Array, entry: ZipEntry): Uint8Array {
  try {
    // maxOutputLength bounds a zip bomb: an entry may not inflate past the size it announces.
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
  } catch (cause) {
    throw malformed(
      `the entry ${entry.name} does not inflate: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw malformed(`the ${what} is too large`);
  }
  return Number(value);
}

function malformed(message: string): TorchArchiveError {
  return new TorchArchiveError('torch_zip_malformed', `the zip is malformed: ${message}`);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

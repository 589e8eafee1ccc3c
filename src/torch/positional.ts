import type { RandomAccess } from '../storage/random-access';
import { crc32 } from './crc32';
import type { ReadTorchModel } from './engine';
import { asAggregationError, readTorchModel } from './engine';
import type { ZipEntry } from './zip';
import {
  centralDirectoryRange,
  crcMismatch,
  entryBytes,
  LOCAL_HEADER_BYTES,
  localHeaderOffsets,
  readZipDirectory,
} from './zip';

/** The end records sit in the file's last 64 KiB (a comment of at most 65535 bytes, the zip64 locator and record). */
const TAIL_BYTES = 22 + 0xffff + 20 + 56;
/** Pickles larger than this are refused by the archive reader anyway; they are not read in. */
const MAX_PICKLE_BYTES = 16 << 20;
/** Bytes read at a time while checking a stored entry's CRC-32. */
const CRC_CHUNK_BYTES = 1 << 20;

/**
 * Reads a PyTorch archive by position: the zip's end records, its central directory, every local header and the
 * entries the archive reader reads (the pickles and `byteorder`) are read into a sparse copy of the file, whose
 * storages are never read into it (the pages of a fresh buffer cost no memory until written). The archive is then
 * read and checked as a whole one is, its CRC-32s included: stored entries a chunk at a time through one buffer,
 * so a file corrupted since its upload check (or a local file given to `roundhouse aggregate`) is still refused.
 */
export async function readTorchModelAt(access: RandomAccess): Promise<ReadTorchModel> {
  const sparse = new Uint8Array(access.size);
  const fill = async (start: number, length: number): Promise<void> => {
    const from = Math.max(0, Math.min(start, sparse.length));
    const to = Math.max(from, Math.min(start + length, sparse.length));
    await access.readInto(sparse.subarray(from, to), from);
  };
  await fill(0, 4);
  await fill(sparse.length - TAIL_BYTES, TAIL_BYTES);
  // A file that is not a zip, or whose directory is broken, is refused by the archive reader at the end, in its words.
  const directory = tryOrUndefined(() => centralDirectoryRange(sparse));
  if (directory !== undefined) {
    await fill(directory.offset, directory.size);
    for (const offset of tryOrUndefined(() => localHeaderOffsets(sparse)) ?? []) {
      await fill(offset, LOCAL_HEADER_BYTES);
      const view = new DataView(sparse.buffer, sparse.byteOffset, sparse.byteLength);
      if (offset + LOCAL_HEADER_BYTES <= sparse.length) {
        await fill(offset + LOCAL_HEADER_BYTES, view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true));
      }
    }
    const { entries } = tryOrUndefined(() => readZipDirectory(sparse)) ?? { entries: [] };
    for (const entry of entries) {
      if ((/\.(debug_)?pkl$/.test(entry.name) || entry.name.endsWith('/byteorder')) && entry.size <= MAX_PICKLE_BYTES) {
        await fill(entry.dataOffset, entry.compressedSize);
      }
    }
  }
  const model = readTorchModel(sparse, { verifyCrc: false });
  const scratch = new Uint8Array(CRC_CHUNK_BYTES);
  for (const entry of model.archive.entries) {
    if (entry.method === 0) {
      await checkStoredCrc(access, entry, scratch);
    } else {
      // A deflated entry (TorchScript's code) is small: read it in and check it as a whole archive's would be.
      await fill(entry.dataOffset, entry.compressedSize);
      asAggregationError(() => entryBytes(sparse, entry, true));
    }
  }
  return model;
}

/** Checks a stored entry's CRC-32, reading it a chunk at a time into `scratch`. */
async function checkStoredCrc(access: RandomAccess, entry: ZipEntry, scratch: Uint8Array): Promise<void> {
  let crc = 0;
  for (let done = 0; done < entry.size; done += scratch.length) {
    const chunk = scratch.subarray(0, Math.min(scratch.length, entry.size - done));
    await access.readInto(chunk, entry.dataOffset + done);
    crc = crc32(chunk, crc);
  }
  if (crc !== entry.crc32) {
    asAggregationError(() => {
      throw crcMismatch(crc, entry);
    });
  }
}

function tryOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

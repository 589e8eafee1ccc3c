import type { Readable } from 'node:stream';
import type { RandomAccess } from './random-access';

/** A stored blob: its SHA-256 (lowercase hex) and its size in bytes. */
export interface BlobRef {
  digest: string;
  size: number;
}

/** A blob as listed by the store, with the time it was last written. */
export interface BlobEntry extends BlobRef {
  modifiedAt: Date;
}

/** What a write may do between its bytes being whole and their appearing under their digest. */
export interface PutOptions {
  /** Runs once the digest is known, before the blob is stored under it; a failure fails the write. */
  beforeCommit?(ref: BlobRef): Promise<void>;
}

/**
 * Content-addressed storage of model bytes: a folder on disk (`FsBlobStore`) or an S3-compatible bucket
 * (`S3BlobStore`), as `ROUNDHOUSE_BLOB_URL` chooses (`blobStoreAt`).
 */
export interface BlobStore {
  /** Stores the bytes and returns their digest; writing the same bytes twice is harmless. */
  put(source: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<BlobRef>;
  /** Streams a blob. @throws AppError not_found when absent. */
  read(digest: string): Promise<Readable>;
  /**
   * Reads `length` bytes of a blob from byte `start` (fewer where the blob ends first), without reading the rest: a
   * positional read of a file, a ranged GET of a bucket. @throws AppError not_found when absent.
   */
  readRange(digest: string, start: number, length: number): Promise<Buffer>;
  /**
   * Opens a blob for many positional reads into the caller's buffers (the aggregation engine's chunked reads).
   * @throws AppError not_found when absent.
   */
  openAccess(digest: string): Promise<RandomAccess>;
  /** Reads a whole blob into memory (for small blobs). */
  readAll(digest: string): Promise<Buffer>;
  /** The blob's size, or undefined when it is absent. */
  stat(digest: string): Promise<BlobRef | undefined>;
  /**
   * Removes a blob; absent blobs are ignored. With `onlyIfOlderThan`, a blob written again since (an upload of the
   * same bytes in flight) is kept. Returns whether it was removed.
   */
  delete(digest: string, options?: { onlyIfOlderThan?: Date }): Promise<boolean>;
  /** Every stored blob. */
  list(): AsyncIterable<BlobEntry>;
  /** Removes temporary files of writes that never finished (a crashed writer) older than `olderThan`. */
  removeStaleTemporaryFiles(olderThan: Date): Promise<number>;
}

/** True when `value` is a SHA-256 digest as the store names blobs. */
export function isDigest(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

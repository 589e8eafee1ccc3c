import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openFileAccess, type RandomAccess } from '../storage/random-access';
import { concatBytes } from './wire';

/**
 * A model that can be read (again) as a stream of chunks: strategies read the global model twice (summary, then
 * template) and may reopen updates. A blob store passes `() => blobs.read(digest)` (a promised Readable) or
 * `() => fs.createReadStream(path, { highWaterMark })`; chunks of about 1 MiB read much faster than 64 KiB ones.
 * A stored model also offers `openAccess`, reads by position: the engine then indexes its tensors without reading
 * their values and reads chunks of values where it needs them (`src/aggregation/indexed.ts`).
 */
export type ModelSource = (() => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>) & {
  readonly openAccess?: () => Promise<RandomAccess>;
};

/** Stored bytes: a stream and positional reads of them. */
export type StoredSource = (() => AsyncIterable<Uint8Array>) & { readonly openAccess: () => Promise<RandomAccess> };

/** A new source that streams as `stream` does and reads by position through `openAccess`. */
export function withAccess<T extends AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>>(
  stream: () => T,
  openAccess: () => Promise<RandomAccess>,
): (() => T) & { readonly openAccess: () => Promise<RandomAccess> } {
  return Object.assign(() => stream(), { openAccess });
}

/** Opens a source as a plain chunk stream (awaiting it first when the source is a promise). */
export async function* openSource(source: ModelSource): AsyncGenerator<Uint8Array> {
  yield* await source();
}

const DEFAULT_CHUNK = 1 << 20;

/** A source over bytes already in memory, served in chunks (views, no copy), and read by position as well. */
export function bytesSource(bytes: Uint8Array, chunkSize = DEFAULT_CHUNK): StoredSource {
  return withAccess(
    async function* chunks() {
      for (let at = 0; at < bytes.length; at += chunkSize) {
        yield await Promise.resolve(bytes.subarray(at, at + chunkSize));
      }
    },
    () => Promise.resolve(memoryAccess(bytes)),
  );
}

/** A source over a file, read in 1 MiB chunks (fewer iterator steps than the 64 KiB default) or by position. */
export function fileSource(path: string, chunkSize = DEFAULT_CHUNK): StoredSource {
  return withAccess(
    (): AsyncIterable<Uint8Array> => createReadStream(path, { highWaterMark: chunkSize }),
    () => openFileAccess(path),
  );
}

/** Positional reads of bytes in memory (copies, as a file's reads are). */
export function memoryAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    readInto(into, position) {
      const part = bytes.subarray(Math.min(position, bytes.length), position + into.length);
      into.set(part);
      return Promise.resolve(part.length);
    },
    close: () => Promise.resolve(),
  };
}

/** Gathers a stream into one array (tests, small models). */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) {
    parts.push(chunk);
  }
  return concatBytes(parts);
}

/** Writes a stream to a file, with back-pressure. */
export async function writeChunksToFile(chunks: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  await pipeline(Readable.from(chunks), createWriteStream(path));
}

/**
 * Writes a stream to `path` whole or not at all (a sibling temporary file, renamed at the end) and returns the
 * SHA-256 (hex) of what it wrote, so a failed aggregation never leaves a partial model behind.
 */
export async function writeFileAtomically(
  chunks: Uint8Array | AsyncIterable<Uint8Array>,
  path: string,
): Promise<string> {
  const partial = `${path}.partial-${process.pid}`;
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks instanceof Uint8Array ? [chunks] : chunks) {
      hash.update(chunk);
      yield chunk;
    }
  }
  try {
    await writeChunksToFile(hashed(), partial);
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  return hash.digest('hex');
}

/**
 * Merges runs of small pieces (headers, prefixes) into chunks of at least `size` bytes; large pieces pass as is.
 * Small pieces are copied as they arrive, so a producer may reuse a piece's memory once it was taken.
 */
export async function* coalesceChunks(pieces: AsyncIterable<Uint8Array>, size = 1 << 16): AsyncGenerator<Uint8Array> {
  let pending = new Uint8Array(2 * size);
  let length = 0;
  for await (const piece of pieces) {
    if (piece.length >= size) {
      if (length > 0) {
        yield pending.slice(0, length);
        length = 0;
      }
      yield piece;
      continue;
    }
    pending.set(piece, length);
    length += piece.length;
    if (length >= size) {
      yield pending.subarray(0, length);
      // The yielded view is the consumer's now: start a fresh buffer rather than overwrite it.
      pending = new Uint8Array(2 * size);
      length = 0;
    }
  }
  if (length > 0) {
    yield pending.slice(0, length);
  }
}

import { read } from 'node:fs';
import fs from 'node:fs/promises';

/**
 * A stored file read by position: a file handle, a bucket's ranged GETs. The engine indexes a model's tensors
 * through it and then reads chunks of their values straight into buffers it reuses, never the whole file.
 */
export interface RandomAccess {
  /** The file's size in bytes. */
  readonly size: number;
  /**
   * Reads `into.length` bytes from byte `position` into `into` and returns how many it read: fewer only where the
   * file ends first.
   */
  readInto(into: Uint8Array, position: number): Promise<number>;
  /** Releases the file; no read may follow. */
  close(): Promise<void>;
}

/** Opens a local file for positional reads. */
export async function openFileAccess(path: string): Promise<RandomAccess> {
  const handle = await fs.open(path, 'r');
  try {
    return await handleAccess(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Positional reads through an open file handle, which the access then owns (and closes). Reads go through the
 * callback API on the handle's descriptor: `FileHandle.read` costs about five times as much per call on the
 * event loop's thread, and an aggregation makes thousands.
 */
export async function handleAccess(handle: fs.FileHandle): Promise<RandomAccess> {
  const { size } = await handle.stat();
  const readAt = (into: Uint8Array, offset: number, position: number): Promise<number> =>
    new Promise((resolve, reject) => {
      read(handle.fd, into, offset, into.length - offset, position, (error, bytesRead) => {
        if (error) {
          reject(error);
        } else {
          resolve(bytesRead);
        }
      });
    });
  return {
    size,
    async readInto(into, position) {
      let filled = 0;
      while (filled < into.length) {
        const bytesRead = await readAt(into, filled, position + filled);
        if (bytesRead === 0) {
          break;
        }
        filled += bytesRead;
      }
      return filled;
    },
    close: () => handle.close(),
  };
}

import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { notFound } from '../errors';
import { type BlobEntry, type BlobRef, type BlobStore, isDigest, type PutOptions } from './blob-store';
import { handleAccess, type RandomAccess } from './random-access';

const TEMP_SUFFIX = '.partial';

/**
 * A blob store in a local folder: `<root>/sha256/<first two hex>/<digest>`. A write goes to `<root>/tmp`, is
 * fsynced and then renamed under its digest, so a crash never leaves a partial file under a digest.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly tempDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'sha256');
    this.tempDir = path.join(root, 'tmp');
  }

  async put(source: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<BlobRef> {
    await fs.mkdir(this.tempDir, { recursive: true });
    const tempPath = path.join(this.tempDir, `${randomUUID()}${TEMP_SUFFIX}`);
    const handle = await fs.open(tempPath, 'wx');
    const hash = createHash('sha256');
    let size = 0;
    try {
      try {
        for await (const chunk of source instanceof Uint8Array ? [source] : source) {
          hash.update(chunk);
          size += chunk.byteLength;
          await handle.write(chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const digest = hash.digest('hex');
      await options.beforeCommit?.({ digest, size });
      const finalPath = this.pathOf(digest);
      await fs.mkdir(path.dirname(finalPath), { recursive: true });
      // Same digest, same bytes: a concurrent or earlier writer's file is as good as ours.
      await fs.rename(tempPath, finalPath);
      await syncDirectory(path.dirname(finalPath));
      return { digest, size };
    } catch (err) {
      await fs.rm(tempPath, { force: true });
      throw err;
    }
  }

  async read(digest: string): Promise<Readable> {
    const handle = await this.open(digest);
    return handle.createReadStream();
  }

  async readRange(digest: string, start: number, length: number): Promise<Buffer> {
    const handle = await this.open(digest);
    try {
      const buffer = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
        if (bytesRead === 0) {
          break;
        }
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async openAccess(digest: string): Promise<RandomAccess> {
    const handle = await this.open(digest);
    try {
      return await handleAccess(handle);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async readAll(digest: string): Promise<Buffer> {
    const handle = await this.open(digest);
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async stat(digest: string): Promise<BlobRef | undefined> {
    if (!isDigest(digest)) {
      return undefined;
    }
    try {
      const stats = await fs.stat(this.pathOf(digest));
      return { digest, size: stats.size };
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }

  async delete(digest: string, options: { onlyIfOlderThan?: Date } = {}): Promise<boolean> {
    if (!isDigest(digest)) {
      return false;
    }
    const file = this.pathOf(digest);
    const stats = await fs.stat(file).catch(() => undefined);
    if (!stats || (options.onlyIfOlderThan && stats.mtime >= options.onlyIfOlderThan)) {
      return false;
    }
    await fs.rm(file, { force: true });
    return true;
  }

  async *list(): AsyncIterable<BlobEntry> {
    for (const prefix of await readDirOrEmpty(this.blobsDir)) {
      for (const name of await readDirOrEmpty(path.join(this.blobsDir, prefix))) {
        if (!isDigest(name)) {
          continue;
        }
        const stats = await fs.stat(path.join(this.blobsDir, prefix, name)).catch(() => undefined);
        if (stats) {
          yield { digest: name, size: stats.size, modifiedAt: stats.mtime };
        }
      }
    }
  }

  async removeStaleTemporaryFiles(olderThan: Date): Promise<number> {
    let removed = 0;
    for (const name of await readDirOrEmpty(this.tempDir)) {
      const file = path.join(this.tempDir, name);
      const stats = await fs.stat(file).catch(() => undefined);
      if (name.endsWith(TEMP_SUFFIX) && stats && stats.mtime < olderThan) {
        await fs.rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  private pathOf(digest: string): string {
    return path.join(this.blobsDir, digest.slice(0, 2), digest);
  }

  private async open(digest: string): Promise<fs.FileHandle> {
    if (!isDigest(digest)) {
      throw notFound(`Blob ${digest} not found.`);
    }
    try {
      return await fs.open(this.pathOf(digest), 'r');
    } catch (err) {
      if (isNotFound(err)) {
        throw notFound(`Blob ${digest} not found.`);
      }
      throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

async function readDirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) {
      return [];
    }
    throw err;
  }
}

/** fsync a directory so a rename into it survives a power loss. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

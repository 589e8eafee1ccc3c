import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobEntry, BlobRef, BlobStore } from '../../../../src/storage/blob-store';
import { notFound } from '../../../../src/errors';
import { memoryAccess } from '../../../../src/onnx/model-source';
import type { RandomAccess } from '../../../../src/storage/random-access';

/** A blob store in memory that records every ranged read, to see how much of a blob a reader touches. */
export class MemoryBlobs implements BlobStore {
  readonly blobs = new Map<string, Buffer>();
  readonly ranges: Array<{ start: number; length: number }> = [];

  async put(source: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobRef> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of source instanceof Uint8Array ? [source] : source) {
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    const digest = createHash('sha256').update(bytes).digest('hex');
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }

  read(digest: string): Promise<Readable> {
    return Promise.resolve(Readable.from([this.bytes(digest)]));
  }

  readRange(digest: string, start: number, length: number): Promise<Buffer> {
    this.ranges.push({ start, length });
    return Promise.resolve(this.bytes(digest).subarray(start, start + length));
  }

  openAccess(digest: string): Promise<RandomAccess> {
    return Promise.resolve(memoryAccess(this.bytes(digest)));
  }

  readAll(digest: string): Promise<Buffer> {
    return Promise.resolve(this.bytes(digest));
  }

  stat(digest: string): Promise<BlobRef | undefined> {
    const bytes = this.blobs.get(digest);
    return Promise.resolve(bytes && { digest, size: bytes.length });
  }

  delete(digest: string): Promise<boolean> {
    return Promise.resolve(this.blobs.delete(digest));
  }

  async *list(): AsyncIterable<BlobEntry> {
    for (const [digest, bytes] of this.blobs) {
      yield await Promise.resolve({ digest, size: bytes.length, modifiedAt: new Date() });
    }
  }

  removeStaleTemporaryFiles(): Promise<number> {
    return Promise.resolve(0);
  }

  private bytes(digest: string): Buffer {
    const bytes = this.blobs.get(digest);
    if (!bytes) {
      throw notFound(`Blob ${digest} not found.`);
    }
    return bytes;
  }
}

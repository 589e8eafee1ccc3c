import type { Readable } from 'node:stream';
import type { BlobEntry, BlobRef, BlobStore, PutOptions } from './blob-store';
import type { RandomAccess } from './random-access';

/**
 * Write leases on digests (the database keeps them: `src/db/queries/blob-leases.ts`). A check-then-delete is not
 * atomic on either store, so a sweep deleting an old orphan could otherwise remove the bytes a writer of the same
 * content has just stored under it again. Taking a lease and the sweep's check-and-delete exclude each other.
 */
export interface BlobLeases {
  /** Leases `digest` to this write, waiting while a sweep is deleting it. */
  take(digest: string): Promise<void>;
}

/** A store whose every write leases its digest before the blob appears under it. */
export class LeasedBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly leases: BlobLeases,
  ) {}

  put(source: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<BlobRef> {
    return this.inner.put(source, {
      beforeCommit: async (ref) => {
        await this.leases.take(ref.digest);
        await options.beforeCommit?.(ref);
      },
    });
  }

  read(digest: string): Promise<Readable> {
    return this.inner.read(digest);
  }

  readRange(digest: string, start: number, length: number): Promise<Buffer> {
    return this.inner.readRange(digest, start, length);
  }

  openAccess(digest: string): Promise<RandomAccess> {
    return this.inner.openAccess(digest);
  }

  readAll(digest: string): Promise<Buffer> {
    return this.inner.readAll(digest);
  }

  stat(digest: string): Promise<BlobRef | undefined> {
    return this.inner.stat(digest);
  }

  delete(digest: string, options?: { onlyIfOlderThan?: Date }): Promise<boolean> {
    return this.inner.delete(digest, options);
  }

  list(): AsyncIterable<BlobEntry> {
    return this.inner.list();
  }

  removeStaleTemporaryFiles(olderThan: Date): Promise<number> {
    return this.inner.removeStaleTemporaryFiles(olderThan);
  }
}

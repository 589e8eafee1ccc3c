import type { BlobStore } from './blob-store';

/** What one sweep removed and kept. */
export interface SweepResult {
  removed: string[];
  kept: number;
  removedTemporaryFiles: number;
}

/**
 * Removes blobs that no row references. Blobs younger than `minAgeMs` are kept even when unreferenced: an upload
 * writes its blob before its row, and the sweep must not race it.
 * @param listReferenced returns every referenced digest; called after the listing starts, so a blob listed is either
 *   referenced by then or older than `minAgeMs` and really orphaned.
 */
export async function sweepBlobs(
  store: BlobStore,
  listReferenced: () => Promise<Set<string>>,
  options: {
    minAgeMs: number;
    now?: Date;
    /**
     * Runs each delete (`remove`) when nothing claims the digest (a write's lease, a row since the listing); returns
     * whether it was removed. Without it, candidates are removed directly.
     */
    guard?: (digest: string, remove: () => Promise<boolean>) => Promise<boolean>;
  },
): Promise<SweepResult> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.minAgeMs);
  const candidates: string[] = [];
  let kept = 0;
  for await (const blob of store.list()) {
    if (blob.modifiedAt < cutoff) {
      candidates.push(blob.digest);
    } else {
      kept += 1;
    }
  }
  const referenced = await listReferenced();
  const removed: string[] = [];
  const remove = (digest: string) => (): Promise<boolean> => store.delete(digest, { onlyIfOlderThan: cutoff });
  for (const digest of candidates) {
    if (referenced.has(digest)) {
      kept += 1;
    } else if (await (options.guard ?? ((_, remove) => remove()))(digest, remove(digest))) {
      removed.push(digest);
    } else {
      kept += 1;
    }
  }
  const removedTemporaryFiles = await store.removeStaleTemporaryFiles(cutoff);
  return { removed, kept, removedTemporaryFiles };
}

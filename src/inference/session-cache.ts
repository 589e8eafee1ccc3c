/** What the cache holds: anything with a native `release()` (an onnxruntime session). */
export interface Releasable {
  release(): Promise<void>;
}

/**
 * Sessions by key, least recently used first out, bounded by the bytes of the models they were created from (a
 * session's native memory grows with its model). An evicted session is released at once. Keys pinned by the task
 * in progress are never evicted, so the bound can be passed while one task needs more than it.
 */
export class SessionCache<S extends Releasable = Releasable> {
  private readonly entries = new Map<string, { session: S; bytes: number }>();
  private pinned = new Set<string>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Keys the current task uses: kept whatever the bound says, until the next call. */
  pin(keys: readonly string[]): void {
    this.pinned = new Set(keys);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The cached session (now the most recently used). @throws when absent: callers ensure it first. */
  get(key: string): S {
    const entry = this.entries.get(key);
    if (!entry) {
      throw new Error(`No session cached for ${key}.`);
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.session;
  }

  /** Caches a session made from `bytes` bytes of model, evicting the least recently used unpinned ones past the bound. */
  set(key: string, session: S, bytes: number): void {
    this.entries.set(key, { session, bytes });
    this.total += bytes;
    for (const [oldKey, entry] of this.entries) {
      if (this.total <= this.maxBytes) {
        break;
      }
      if (this.pinned.has(oldKey) || oldKey === key) {
        continue;
      }
      this.entries.delete(oldKey);
      this.total -= entry.bytes;
      void entry.session.release();
    }
  }

  /** Bytes of model the session under `key` was made from (0 when absent). */
  bytesOf(key: string): number {
    return this.entries.get(key)?.bytes ?? 0;
  }

  /** Bytes of model the cached sessions were made from. */
  size(): number {
    return this.total;
  }

  /** Releases every session. */
  async clear(): Promise<void> {
    const sessions = [...this.entries.values()].map((entry) => entry.session);
    this.entries.clear();
    this.total = 0;
    await Promise.all(sessions.map((session) => session.release()));
  }
}

import { cacheLookups } from '../../metrics/metrics';
import type { Changes } from './change-feed';

/** What a load found: the value and the change keys it was read from. */
export interface Loaded<V> {
  readonly value: V;
  /** The `kind:id` keys whose change makes the value stale (see the change triggers). */
  readonly dependsOn: readonly string[];
  /** How long it may be served at most, when shorter than the cache's own limit (a session's remaining life). */
  readonly maxAgeMs?: number;
}

interface Entry<V> {
  readonly value: V;
  readonly dependsOn: readonly string[];
  readonly expiresAt: number;
}

/**
 * A small LRU cache of database reads that drops an entry when a row it was read from changes (`Changes`), and serves
 * nothing while the feed cannot vouch for its freshness: then every `get` reads the database. A load that overlaps a
 * change is returned but not kept (it may have read the row before the change), and misses are never kept. Entries
 * also expire after `maxAgeMs`, a bound on what a missed notification could cost.
 */
export class LookupCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Change key → the entries read from it. */
  private readonly dependents = new Map<string, Set<string>>();

  /** `name` labels its lookups in `roundhouse_cache_lookups_total`. */
  constructor(
    private readonly name: 'tokens' | 'sessions' | 'inference_models',
    private readonly changes: Changes,
    private readonly limits: { maxEntries: number; maxAgeMs: number },
  ) {
    changes.subscribe({
      changed: (key) => {
        for (const entryKey of this.dependents.get(key) ?? []) {
          this.delete(entryKey);
        }
      },
      reset: () => {
        this.entries.clear();
        this.dependents.clear();
      },
    });
  }

  /** The value under `key`: held, or loaded (and kept when the feed is fresh and nothing changed meanwhile). */
  async get(key: string, load: () => Promise<Loaded<V> | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const held = this.entries.get(key);
    const fresh = this.changes.fresh();
    if (held && held.expiresAt > now && fresh) {
      // Most recently used last: the first entry is the one to evict.
      this.entries.delete(key);
      this.entries.set(key, held);
      cacheLookups.inc({ cache: this.name, outcome: 'hit' });
      return held.value;
    }
    cacheLookups.inc({ cache: this.name, outcome: fresh ? 'miss' : 'bypass' });
    if (held) {
      this.delete(key);
    }
    const epoch = this.changes.epoch;
    const loaded = await load();
    if (loaded && this.changes.epoch === epoch && this.changes.fresh()) {
      this.keep(key, loaded, now);
    }
    return loaded?.value;
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private keep(key: string, loaded: Loaded<V>, loadedAt: number): void {
    this.delete(key);
    const maxAgeMs = Math.min(this.limits.maxAgeMs, loaded.maxAgeMs ?? Number.POSITIVE_INFINITY);
    if (maxAgeMs <= 0) {
      return;
    }
    // The age counts from before the load: what it read is at least that old.
    this.entries.set(key, { value: loaded.value, dependsOn: loaded.dependsOn, expiresAt: loadedAt + maxAgeMs });
    for (const dependency of loaded.dependsOn) {
      const set = this.dependents.get(dependency) ?? new Set();
      set.add(key);
      this.dependents.set(dependency, set);
    }
    while (this.entries.size > this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) {
      return;
    }
    this.entries.delete(key);
    for (const dependency of entry.dependsOn) {
      const set = this.dependents.get(dependency);
      set?.delete(key);
      if (set?.size === 0) {
        this.dependents.delete(dependency);
      }
    }
  }
}

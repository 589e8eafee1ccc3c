import type { ChangeSubscriber, Changes } from '../../../src/api/cache/change-feed';
import { type Loaded, LookupCache } from '../../../src/api/cache/lookup-cache';

/** A feed the test drives by hand. */
class FakeChanges implements Changes {
  epoch = 0;
  isFresh = true;
  private readonly subscribers = new Set<ChangeSubscriber>();
  fresh(): boolean {
    return this.isFresh;
  }
  subscribe(subscriber: ChangeSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
  change(key: string): void {
    this.epoch += 1;
    this.subscribers.forEach((s) => s.changed(key));
  }
  reset(): void {
    this.epoch += 1;
    this.subscribers.forEach((s) => s.reset());
  }
}

/** A loader that counts its reads and answers `value` (or nothing) read from `dependsOn`. */
function loader(value: string | undefined, dependsOn: string[] = ['user:1'], maxAgeMs?: number) {
  const load = jest.fn((): Promise<Loaded<string> | undefined> =>
    Promise.resolve(
      value === undefined ? undefined : { value, dependsOn, ...(maxAgeMs === undefined ? {} : { maxAgeMs }) },
    ),
  );
  return load;
}

describe('LookupCache', () => {
  const limits = { maxEntries: 3, maxAgeMs: 60_000 };

  it('serves a second get from memory, and reads again once a row it depends on changed', async () => {
    const changes = new FakeChanges();
    const cache = new LookupCache<string>('tokens', changes, limits);
    const load = loader('alice', ['user:1', 'training:7']);
    expect(await cache.get('token-a', load)).toBe('alice');
    expect(await cache.get('token-a', load)).toBe('alice');
    expect(load).toHaveBeenCalledTimes(1);
    changes.change('training:8');
    await cache.get('token-a', load);
    expect(load).toHaveBeenCalledTimes(1);
    changes.change('training:7');
    expect(cache.size).toBe(0);
    await cache.get('token-a', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('reads the database every time while the feed cannot vouch for freshness, and keeps nothing', async () => {
    const changes = new FakeChanges();
    const cache = new LookupCache<string>('tokens', changes, limits);
    const load = loader('alice');
    await cache.get('token-a', load);
    changes.isFresh = false;
    await cache.get('token-a', load);
    await cache.get('token-a', load);
    expect(load).toHaveBeenCalledTimes(3);
    expect(cache.size).toBe(0);
  });

  it('returns but does not keep a load that a change overlapped (it may have read the row before the change)', async () => {
    const changes = new FakeChanges();
    const cache = new LookupCache<string>('tokens', changes, limits);
    const racing = jest.fn((): Promise<Loaded<string>> => {
      changes.change('user:2');
      return Promise.resolve({ value: 'old', dependsOn: ['user:1'] });
    });
    expect(await cache.get('token-a', racing)).toBe('old');
    expect(cache.size).toBe(0);
  });

  it('never keeps a miss, drops everything on reset, and evicts the least recently used past its size', async () => {
    const changes = new FakeChanges();
    const cache = new LookupCache<string>('tokens', changes, limits);
    const missing = loader(undefined);
    expect(await cache.get('nobody', missing)).toBeUndefined();
    expect(await cache.get('nobody', missing)).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(2);

    const loads = ['a', 'b', 'c', 'd'].map((name) => loader(name, [`user:${name}`]));
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      await cache.get(name, loads[i]!);
    }
    await cache.get('a', loads[0]!); // a is now the most recently used; b the least
    await cache.get('d', loads[3]!);
    expect(cache.size).toBe(3);
    await cache.get('b', loads[1]!);
    expect(loads[1]).toHaveBeenCalledTimes(2);
    await cache.get('a', loads[0]!);
    expect(loads[0]).toHaveBeenCalledTimes(1);

    changes.reset();
    expect(cache.size).toBe(0);
    // A change to a key nothing depends on any more is harmless.
    changes.change('user:a');
  });

  it("serves an entry no longer than its own limit or the cache's", async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const changes = new FakeChanges();
      const cache = new LookupCache<string>('tokens', changes, { maxEntries: 10, maxAgeMs: 1_000 });
      const session = loader('session', ['session:x'], 200);
      const token = loader('token');
      await cache.get('s', session);
      await cache.get('t', token);
      jest.advanceTimersByTime(150);
      await cache.get('s', session);
      await cache.get('t', token);
      expect(session).toHaveBeenCalledTimes(1);
      jest.advanceTimersByTime(100);
      await cache.get('s', session);
      expect(session).toHaveBeenCalledTimes(2);
      jest.advanceTimersByTime(800);
      await cache.get('t', token);
      expect(token).toHaveBeenCalledTimes(2);
      // A session with no life left is not kept at all.
      const ending = loader('ending', ['session:y'], 0);
      await cache.get('e', ending);
      await cache.get('e', ending);
      expect(ending).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });
});

import { SessionCache } from '../../../src/inference/session-cache';

/** A session that records its release. */
function session(name: string, released: string[]) {
  return {
    name,
    release: () => {
      released.push(name);
      return Promise.resolve();
    },
  };
}

describe('SessionCache', () => {
  it('when past its byte bound, releases the least recently used sessions first', () => {
    const released: string[] = [];
    const cache = new SessionCache(100);
    cache.set('a', session('a', released), 40);
    cache.set('b', session('b', released), 40);
    cache.get('a');
    cache.set('c', session('c', released), 40);

    expect(released).toEqual(['b']);
    expect(cache.has('a') && cache.has('c') && !cache.has('b')).toBe(true);
    expect(cache.size()).toBe(80);
  });

  it('never evicts a session the current task pinned, even past the bound', () => {
    const released: string[] = [];
    const cache = new SessionCache(50);
    cache.pin(['a', 'b']);
    cache.set('a', session('a', released), 40);
    cache.set('b', session('b', released), 40);

    expect(released).toEqual([]);
    expect(cache.size()).toBe(80);
    cache.pin(['c']);
    cache.set('c', session('c', released), 10);
    expect(released).toEqual(['a']);
    expect(cache.size()).toBe(50);
  });

  it('when cleared, releases every session', async () => {
    const released: string[] = [];
    const cache = new SessionCache(1000);
    cache.set('a', session('a', released), 1);
    cache.set('b', session('b', released), 1);
    await cache.clear();

    expect(released.sort()).toEqual(['a', 'b']);
    expect(cache.size()).toBe(0);
    expect(() => cache.get('a')).toThrow('No session cached for a.');
  });
});

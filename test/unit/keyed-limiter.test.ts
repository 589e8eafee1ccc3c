import { KeyedLimiter, type Release } from '../../src/api/keyed-limiter';

describe('KeyedLimiter', () => {
  it('when the limit is reached, makes later callers wait and hands freed slots over in arrival order', async () => {
    const limiter = new KeyedLimiter(2);
    const first = await limiter.acquire('t', 1_000);
    const second = await limiter.acquire('t', 1_000);
    const order: string[] = [];
    const third = limiter.acquire('t', 1_000).then((r) => (order.push('third'), r));
    const fourth = limiter.acquire('t', 1_000).then((r) => (order.push('fourth'), r));
    expect(limiter.load('t')).toEqual({ active: 2, waiting: 2 });
    second?.();
    second?.(); // a second release of the same slot changes nothing
    const thirdSlot = await third;
    expect(order).toEqual(['third']);
    expect(limiter.load('t')).toEqual({ active: 2, waiting: 1 });
    first?.();
    const fourthSlot = await fourth;
    expect(order).toEqual(['third', 'fourth']);
    thirdSlot?.();
    fourthSlot?.();
    expect(limiter.load('t')).toEqual({ active: 0, waiting: 0 });
  });

  it('when no slot frees in time, answers null and forgets the waiter; other keys are never held up', async () => {
    const limiter = new KeyedLimiter(1);
    const held = await limiter.acquire('a', 0);
    expect(await limiter.acquire('a', 20)).toBeNull();
    expect(limiter.load('a')).toEqual({ active: 1, waiting: 0 });
    const other: Release | null = await limiter.acquire('b', 0);
    expect(other).not.toBeNull();
    held?.();
    other?.();
    expect([limiter.load('a'), limiter.load('b')]).toEqual([
      { active: 0, waiting: 0 },
      { active: 0, waiting: 0 },
    ]);
  });

  it('refuses a limit below one', () => {
    expect(() => new KeyedLimiter(0)).toThrow(RangeError);
  });
});

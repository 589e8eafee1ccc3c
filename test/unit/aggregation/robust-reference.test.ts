import { aggregate } from '../../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import { sortAscending, stableOrder } from '../../../src/aggregation/strategies/small-sort';
import { float64Model, weightsOf } from './helpers/float64-models';
import {
  referenceBulyan,
  referenceBulyanIterative,
  referenceMedian,
  referenceTrimmedMean,
} from './helpers/reference-robust';
import { generator } from './helpers/seeded';

/** Mostly values on a coarse grid (so medians and distances tie often), with signed zeros and a few arbitrary ones. */
function tieProneValue(random: () => number): number {
  const pick = random();
  if (pick < 0.1) {
    return random() < 0.5 ? 0 : -0;
  }
  if (pick < 0.8) {
    return Math.floor(random() * 9 - 4) / 2;
  }
  return (random() - 0.5) * 10;
}

function randomUpdates(seed: number, clients: number, length: number): number[][] {
  const random = generator(seed);
  return Array.from({ length: clients }, () => Array.from({ length }, () => tieProneValue(random)));
}

async function run(method: string, replies: number[][], params: Record<string, unknown> = {}): Promise<number[]> {
  const result = await aggregate({
    method,
    params,
    global: bytesSource(float64Model(new Array<number>(replies[0]?.length ?? 0).fill(0))),
    updates: replies.map((values, i) => ({
      clientId: `c${String(i).padStart(3, '0')}`,
      sampleSize: i + 1,
      source: bytesSource(float64Model(values)),
    })),
  });
  return weightsOf(await collectBytes(result.model));
}

/** The exact bits, so +0 and −0 or a last-place difference count as different. */
function bits(values: readonly number[]): Buffer {
  return Buffer.from(Float64Array.from(values).buffer);
}

describe('small sorts', () => {
  it.each([2, 5, 32, 33, 100])('when %i tie-prone values are sorted, the order is the native sort’s', (n) => {
    const random = generator(n);
    for (let round = 0; round < 200; round++) {
      const values = Float64Array.from({ length: n }, () => tieProneValue(random));
      const expected = Float64Array.from(values).sort();
      sortAscending(values);
      expect(bits([...values])).toEqual(bits([...expected]));
    }
  });

  it.each([2, 5, 32, 33, 100])(
    'when %i indexes are ordered by tie-prone keys, the order is a stable comparator sort’s',
    (n) => {
      const random = generator(1000 + n);
      const order = new Int32Array(n);
      const scratch = new Int32Array(n);
      for (let round = 0; round < 200; round++) {
        const keys = Float64Array.from({ length: n }, () => Math.abs(tieProneValue(random)));
        const expected = [...keys.keys()].sort((a, b) => (keys[a] ?? NaN) - (keys[b] ?? NaN));
        order.forEach((_, i) => (order[i] = i));
        stableOrder(keys, order, scratch);
        expect([...order]).toEqual(expected);
      }
    },
  );
});

describe('robust aggregators against plain reference code (random tie-prone updates)', () => {
  it.each([
    [3, 1],
    [8, 2],
    [40, 3],
  ])('when %i clients are aggregated (seed %i), FedMedian and FedTrimmedAvg give the same bits', async (n, seed) => {
    const updates = randomUpdates(seed, n, 64);
    expect(bits(await run('FedMedian', updates))).toEqual(bits(referenceMedian(updates)));
    expect(bits(await run('FedTrimmedAvg', updates, { beta: 0.25 }))).toEqual(
      bits(referenceTrimmedMean(updates, 0.25)),
    );
  });

  it.each([
    [7, 1, 4],
    [11, 2, 5],
    [12, 0, 6],
    [40, 1, 7],
  ])('when Bulyan gets %i clients with f = %i (seed %i), it gives the same bits', async (n, f, seed) => {
    const updates = randomUpdates(seed, n, 64);
    expect(bits(await run('Bulyan', updates, { num_malicious_nodes: f }))).toEqual(bits(referenceBulyan(updates, f)));
    expect(bits(await run('Bulyan', updates, { num_malicious_nodes: f, selection_rule: 'iterative' }))).toEqual(
      bits(referenceBulyanIterative(updates, f)),
    );
  });
});

import { forEachChunkInLockstep } from './lockstep';
import type { LockstepVisitor } from './lockstep';
import { numberParam } from './params';
import type { AggregationContext, ClientUpdate } from './strategy';

/**
 * Krum's selection (Blanchard et al. 2017), shared by Krum, Multi-Krum and Bulyan. Scores come from the squared
 * distances between whole updates, which one pass over every update gives; a tie in score goes to the earlier
 * client, and the selected updates go on in client order, as every other rule sees them.
 */

/**
 * D_ij = ‖y_i − y_j‖² over the whole model, in client order: summed tensor by tensor, and within a tensor coordinate
 * by coordinate across its chunks, so the bits do not depend on the chunk size.
 */
export async function krumDistances(context: AggregationContext): Promise<Float64Array[]> {
  const n = context.updates.length;
  const distances = Array.from({ length: n }, () => new Float64Array(n));
  // One running sum per pair over the current tensor, carried from chunk to chunk: the additions are the same, in
  // the same order, whatever the chunk size, and a tensor's sum is added to the distance once, as a whole.
  const tensorSums = new Float64Array(n * n);
  const visit: LockstepVisitor = (info, offset, chunks) => {
    if (offset === 0) {
      tensorSums.fill(0);
    }
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const x = chunks[a] ?? new Float64Array(0);
        const y = chunks[b] ?? new Float64Array(0);
        tensorSums[a * n + b] = addSquaredDistance(tensorSums[a * n + b] ?? 0, x, y);
      }
    }
    if (offset + (chunks[0]?.length ?? 0) === info.elementCount) {
      addTensorSums(distances, tensorSums);
    }
  };
  await forEachChunkInLockstep(context.globalSummary, context.updates, visit, context.chunkSize);
  return distances;
}

/**
 * Krum scores of the updates in `pool` (indexes in client order) with f malicious: score_i is the sum of the
 * k = max(1, |pool| − f − 2) smallest D_ij over the other j of the pool, added smallest first.
 */
export function krumScores(distances: readonly Float64Array[], pool: readonly number[], f: number): number[] {
  const k = Math.max(1, pool.length - f - 2);
  return pool.map((i) => {
    const row = distances[i] ?? new Float64Array(0);
    const others = pool.filter((j) => j !== i).map((j) => row[j] ?? 0);
    return others
      .sort((a, b) => a - b)
      .slice(0, k)
      .reduce((sum, d) => sum + d, 0);
  });
}

/** The `count` updates with the lowest Krum scores in one shot (the Message API's Multi-Krum and Bulyan). */
export async function krumSelect(context: AggregationContext, count: number): Promise<ClientUpdate[]> {
  const f = numberParam(context.params, 'num_malicious_nodes', 0);
  const all = context.updates.map((_, i) => i);
  const scores = krumScores(await krumDistances(context), all, f);
  const order = all.sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  return inClientOrder(context.updates, order.slice(0, count));
}

/**
 * The legacy API's Bulyan selection: Krum applied `count` times, each winner leaving the pool, the scores of the
 * rest recomputed on the smaller pool (its own k = max(1, n' − f − 2)). The distances do not change, so one pass
 * over the updates serves every step.
 */
export async function krumSelectIterative(context: AggregationContext, count: number): Promise<ClientUpdate[]> {
  const f = numberParam(context.params, 'num_malicious_nodes', 0);
  const distances = await krumDistances(context);
  const pool = context.updates.map((_, i) => i);
  const chosen: number[] = [];
  while (chosen.length < count && pool.length > 0) {
    const scores = krumScores(distances, pool, f);
    const best = scores.indexOf(Math.min(...scores));
    chosen.push(...pool.splice(best, 1));
  }
  return inClientOrder(context.updates, chosen);
}

function inClientOrder(updates: readonly ClientUpdate[], chosen: readonly number[]): ClientUpdate[] {
  const set = new Set(chosen);
  return updates.filter((_, i) => set.has(i));
}

/** sum + Σ (x_j − y_j)², added one coordinate at a time. */
function addSquaredDistance(start: number, x: Float64Array, y: Float64Array): number {
  let sum = start;
  for (let j = 0; j < x.length; j++) {
    const d = (x[j] ?? 0) - (y[j] ?? 0);
    sum += d * d;
  }
  return sum;
}

/** Adds a tensor's pair sums (upper triangle of an n × n matrix) to both halves of the symmetric distances. */
function addTensorSums(distances: readonly Float64Array[], tensorSums: Float64Array): void {
  const n = distances.length;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const sum = tensorSums[a * n + b] ?? 0;
      const row = distances[a];
      const column = distances[b];
      if (row && column) {
        row[b] = (row[b] ?? 0) + sum;
        column[a] = (column[a] ?? 0) + sum;
      }
    }
  }
}

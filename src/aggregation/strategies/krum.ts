import { distanceKernel } from '../../kernels/robust-kernels';
import type { TensorInfo } from '../../onnx/manifest';
import { chunkTable, DEFAULT_CHUNK_SIZE, forEachChunkInLockstep, lockstepMemory, widenRange } from './lockstep';
import type { LockstepVisitor, StoredChunks } from './lockstep';
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
  const chunkSize = context.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const distances = Array.from({ length: n }, () => new Float64Array(n));
  const memory = lockstepMemory(context.globalSummary, n, 8 * n * n + 4 * n + 32, chunkSize);
  const kernel = memory && distanceKernel(memory.memory, n);
  // One running sum per pair over the current tensor, carried from chunk to chunk: the additions are the same, in
  // the same order, whatever the chunk size, and a tensor's sum is added to the distance once, as a whole.
  const tensorSums =
    memory && kernel ? new Float64Array(memory.arena.buffer, memory.arena.allocate(8 * n * n), n * n) : undefined;
  const sums = tensorSums ?? new Float64Array(n * n);
  /** Starts a tensor's sums at its first chunk and adds them to the distances after its last. */
  const around = (info: TensorInfo, offset: number, length: number, add: () => void): void => {
    if (offset === 0) {
      sums.fill(0);
    }
    add();
    if (offset + length === info.elementCount) {
      addTensorSums(distances, sums);
    }
  };
  const visit: LockstepVisitor = (info, offset, chunks) =>
    around(info, offset, chunks[0]?.length ?? 0, () => addChunk(sums, chunks));
  let stored: StoredChunks | undefined;
  if (memory && kernel && tensorSums) {
    const { arena } = memory;
    const table = new Int32Array(arena.buffer, arena.allocate(4 * n), n);
    const widened: Float64Array[] = [];
    stored = {
      arena,
      visit: (info, offset, chunks) => {
        const length = chunks[0]?.length ?? 0;
        around(info, offset, length, () => {
          // The kernel adds an even number of coordinates; the last one, if any, is added after them, in order.
          const done = chunkTable(chunks, arena, table) ? length - (length % 2) : 0;
          if (done > 0) {
            kernel.run(table.byteOffset, done, tensorSums.byteOffset);
          }
          if (done < length) {
            addChunk(sums, widenRange(chunks, done, length, widened));
          }
        });
      },
    };
  }
  await forEachChunkInLockstep(context.globalSummary, context.updates, visit, chunkSize, stored);
  return distances;
}

/** Adds every pair's squared differences over a chunk (float64, in client order) to its running sum. */
function addChunk(sums: Float64Array, chunks: readonly Float64Array[]): void {
  const n = chunks.length;
  const none = new Float64Array(0);
  for (let a = 0; a < n; a++) {
    const x = chunks[a] ?? none;
    let b = a + 1;
    // Four pairs at a time: four independent running sums, so the additions overlap instead of waiting on each
    // other; each pair's sum still adds its coordinates one by one, in order.
    for (; b + 3 < n; b += 4) {
      addSquaredDistances4(
        sums,
        a * n + b,
        x,
        chunks[b] ?? none,
        chunks[b + 1] ?? none,
        chunks[b + 2] ?? none,
        chunks[b + 3] ?? none,
      );
    }
    for (; b < n; b++) {
      sums[a * n + b] = addSquaredDistance(sums[a * n + b] ?? 0, x, chunks[b] ?? none);
    }
  }
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

/** sums[at + k] += Σ_j (x[j] − y_k[j])² for k = 0 … 3, each in coordinate order. */
function addSquaredDistances4(
  sums: Float64Array,
  at: number,
  x: Float64Array,
  y0: Float64Array,
  y1: Float64Array,
  y2: Float64Array,
  y3: Float64Array,
): void {
  let s0 = sums[at] ?? 0;
  let s1 = sums[at + 1] ?? 0;
  let s2 = sums[at + 2] ?? 0;
  let s3 = sums[at + 3] ?? 0;
  for (let j = 0; j < x.length; j++) {
    const v = x[j] ?? 0;
    const d0 = v - (y0[j] ?? 0);
    const d1 = v - (y1[j] ?? 0);
    const d2 = v - (y2[j] ?? 0);
    const d3 = v - (y3[j] ?? 0);
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  sums[at] = s0;
  sums[at + 1] = s1;
  sums[at + 2] = s2;
  sums[at + 3] = s3;
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

import { AggregationError } from '../errors';
import { foldWeightedMean } from '../weighted-mean';
import { coordinateKernel } from '../../kernels/robust-kernels';
import type { CoordinateRule as KernelRule } from '../../kernels/robust-kernels';
import type { ModelSummary } from '../../onnx/summary';
import { krumSelect, krumSelectIterative } from './krum';
import { choiceParam, numberParam } from './params';
import { chunkTable, DEFAULT_CHUNK_SIZE, forEachChunkInLockstep, lockstepMemory, widenRange } from './lockstep';
import type { LockstepVisitor, StoredChunks } from './lockstep';
import { sortAscending, stableOrder } from './small-sort';
import type { AggregatedTensors, AggregationContext, AggregationStrategy, ClientUpdate } from './strategy';

/**
 * The robust aggregators (docs/training.md#the-math) with Flower's names and defaults. Coordinate-wise rules (median,
 * trimmed mean, Bulyan's combine) see every client's values of a chunk of coordinates at once, one chunk at a time;
 * Krum's distances are summed tensor by tensor, chunk by chunk. Updates are in client-id order (the engine sorts them), and every tie is broken by that
 * order: a stable sort keeps the earlier client first.
 */

const MALICIOUS = {
  name: 'num_malicious_nodes',
  description: 'f, the number of malicious clients to tolerate',
  default: 0,
  min: 0,
  integer: true,
} as const;

/** FedMedian (Yin et al. 2018): the coordinate-wise median, unweighted; an even count takes the two middle values' mean. */
export const fedMedianStrategy: AggregationStrategy = {
  method: 'FedMedian',
  params: [],
  combine: async (context) => ({
    tensors: await coordinateWise(context, context.updates, median, { kind: 'median' }),
  }),
};

/** FedTrimmedAvg (Yin et al.): cut floor(β·n) values from each tail of every coordinate, average the rest, unweighted. */
export const fedTrimmedAvgStrategy: AggregationStrategy = {
  method: 'FedTrimmedAvg',
  params: [{ name: 'beta', description: 'fraction β cut from each tail; below 0.5', default: 0.2, min: 0 }],
  combine: async (context) => {
    const beta = numberParam(context.params, 'beta', 0.2);
    if (beta >= 0.5) {
      throw new AggregationError(
        'aggregation_invalid_parameter',
        `FedTrimmedAvg parameter beta must be below 0.5 (got ${beta}): nothing would be left to average`,
      );
    }
    const cut = Math.floor(beta * context.updates.length);
    return {
      tensors: await coordinateWise(context, context.updates, (sorted) => mean(sorted, cut, sorted.length - cut), {
        kind: 'trimmed',
        cut,
      }),
    };
  },
};

/** Krum (Blanchard et al. 2017): the single update with the lowest score, unchanged. */
export const krumStrategy: AggregationStrategy = {
  method: 'Krum',
  params: [MALICIOUS],
  combine: async (context) => ({
    tensors: await foldWeightedMean(context.globalSummary, await krumSelect(context, 1)),
  }),
};

/** Multi-Krum: the sample-size-weighted mean of the m updates with the lowest Krum scores. */
export const multiKrumStrategy: AggregationStrategy = {
  method: 'MultiKrum',
  params: [
    MALICIOUS,
    { name: 'num_nodes_to_select', description: 'm, how many updates to keep', default: 1, min: 1, integer: true },
  ],
  combine: async (context) => {
    const selected = await krumSelect(context, numberParam(context.params, 'num_nodes_to_select', 1));
    return { tensors: await foldWeightedMean(context.globalSummary, selected) };
  },
};

/** How Bulyan selects its θ updates: the Message API's one shot, or the legacy API's Krum applied θ times. */
export const BULYAN_SELECTION_RULES = ['one_shot', 'iterative'] as const;

/**
 * Bulyan (El Mhamdi et al. 2018): select θ = n − 2f updates by Krum, then per coordinate average the β = θ − 2f
 * values closest to the selected updates' median. `selection_rule` `one_shot` (the default, Flower's Message API)
 * keeps the θ lowest Multi-Krum scores; `iterative` (Flower's legacy API) picks the best Krum score θ times, each
 * winner leaving the pool. Needs n ≥ 4f + 3.
 */
export const bulyanStrategy: AggregationStrategy = {
  method: 'Bulyan',
  params: [
    MALICIOUS,
    {
      name: 'selection_rule',
      description: 'one_shot: the θ lowest Krum scores at once; iterative: Krum θ times, shrinking the pool',
      default: 'one_shot',
      choices: BULYAN_SELECTION_RULES,
    },
  ],
  combine: async (context) => {
    const n = context.updates.length;
    const f = numberParam(context.params, 'num_malicious_nodes', 0);
    if (n < 4 * f + 3) {
      throw new AggregationError(
        'aggregation_invalid_parameter',
        `Bulyan with num_malicious_nodes ${f} needs at least ${4 * f + 3} updates; this round has ${n}`,
      );
    }
    const theta = n - 2 * f;
    const beta = theta - 2 * f;
    const iterative = choiceParam(context.params, 'selection_rule', 'one_shot') === 'iterative';
    const selected = iterative ? await krumSelectIterative(context, theta) : await krumSelect(context, theta);
    const rule = closestToMedianMean(theta, beta);
    return { tensors: await coordinateWise(context, selected, rule, { kind: 'bulyan', beta }) };
  },
};

/**
 * Bulyan's combine for one coordinate: the mean of the `beta` values closest to the median of `theta` values, summed
 * from the closest out. Of two values equally far from the median the earlier client comes first (a stable sort of
 * the clients by distance), which decides both which values are kept and the order they are summed in.
 */
function closestToMedianMean(theta: number, beta: number): CoordinateRule {
  const distances = new Float64Array(theta);
  const order = new Int32Array(theta);
  const scratch = new Int32Array(theta);
  return (sorted, values) => {
    const mu = median(sorted);
    for (let i = 0; i < theta; i++) {
      distances[i] = Math.abs((values[i] ?? 0) - mu);
      order[i] = i;
    }
    stableOrder(distances, order, scratch);
    let sum = 0;
    for (let i = 0; i < beta; i++) {
      sum += values[order[i] ?? 0] ?? 0;
    }
    return sum / beta;
  };
}

/** One coordinate's result from its clients' values, ascending (`sorted`) and in client order (`values`). */
type CoordinateRule = (sorted: Float64Array, values: Float64Array) => number;

/**
 * Applies `rule` to every coordinate of every float tensor, a chunk of coordinates at a time. With `kernelRule`, the
 * same rule as a WebAssembly kernel (`src/kernels/robust-kernels.ts`) takes the float32 chunks read by position where
 * they were read, and `rule` does what it leaves (batches it cannot vouch for, the last coordinates of a chunk).
 */
async function coordinateWise(
  context: AggregationContext,
  updates: readonly ClientUpdate[],
  rule: CoordinateRule,
  kernelRule?: KernelRule,
): Promise<AggregatedTensors> {
  const global = context.globalSummary;
  const chunkSize = context.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const out: AggregatedTensors = new Map();
  const values = new Float64Array(updates.length);
  const sorted = new Float64Array(updates.length);
  /** result[at + j] = rule(coordinate j of the chunks) for every j of the chunks (float64, in client order). */
  const apply = (chunks: readonly Float64Array[], result: Float64Array, at: number): void => {
    const length = chunks[0]?.length ?? 0;
    for (let j = 0; j < length; j++) {
      for (let i = 0; i < chunks.length; i++) {
        const value = chunks[i]?.[j] ?? 0;
        values[i] = value;
        sorted[i] = value;
      }
      sortAscending(sorted);
      result[at + j] = rule(sorted, values);
    }
  };
  const stored = kernelRule && withKernel(global, updates.length, chunkSize, kernelRule, out, apply);
  const visit: LockstepVisitor = (info, offset, chunks) => {
    const result = out.get(info.name) ?? new Float64Array(info.elementCount);
    out.set(info.name, result);
    apply(chunks, result, offset);
  };
  await forEachChunkInLockstep(global, updates, visit, chunkSize, stored);
  return out;
}

/**
 * The kernel's pass: results, the address table and the list of batches left in one kernel memory with the chunk
 * buffers; undefined where the kernel cannot run (no WebAssembly SIMD, too many clients, a model beyond 4 GiB).
 */
function withKernel(
  global: ModelSummary,
  clients: number,
  chunkSize: number,
  kernelRule: KernelRule,
  out: AggregatedTensors,
  apply: (chunks: readonly Float64Array[], result: Float64Array, at: number) => void,
): StoredChunks | undefined {
  const floats = global.manifest.filter((info) => info.isFloat);
  const resultBytes = floats.reduce((sum, info) => sum + Math.ceil((8 * info.elementCount) / 16) * 16, 0);
  const largest = floats.reduce((most, info) => Math.max(most, info.elementCount), 0);
  const batches = Math.ceil(Math.min(chunkSize, largest) / 4) + 1;
  const memory = lockstepMemory(global, clients, resultBytes + 4 * clients + 4 * batches + 32, chunkSize);
  const kernel = memory && coordinateKernel(memory.memory, clients, kernelRule);
  if (memory === undefined || kernel === undefined) {
    return undefined;
  }
  const { arena } = memory;
  // Touch the results' pages before the kernel writes them (see foldWeightedMean).
  new Uint8Array(arena.buffer, 0, resultBytes).fill(0);
  for (const info of floats) {
    out.set(info.name, new Float64Array(arena.buffer, arena.allocate(8 * info.elementCount), info.elementCount));
  }
  const table = new Int32Array(arena.buffer, arena.allocate(4 * clients), clients);
  const exceptions = arena.allocate(4 * batches);
  const widened: Float64Array[] = [];
  return {
    arena,
    visit: (info, offset, chunks) => {
      const result = out.get(info.name);
      const length = chunks[0]?.length ?? 0;
      if (result === undefined) {
        return;
      }
      let done = 0;
      if (chunkTable(chunks, arena, table)) {
        const left = kernel.run(table.byteOffset, length, result.byteOffset + 8 * offset, exceptions);
        for (const start of new Int32Array(arena.buffer, exceptions, left)) {
          apply(widenRange(chunks, start, start + 4, widened), result, offset + start);
        }
        done = length - (length % 4);
      }
      if (done < length) {
        apply(widenRange(chunks, done, length, widened), result, offset + done);
      }
    },
  };
}

function median(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function mean(values: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    sum += values[i] ?? 0;
  }
  return sum / (to - from);
}

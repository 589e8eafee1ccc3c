import { scanModel } from '../models/scan';
import { openSource } from '../onnx/model-source';
import type { ModelSummary } from '../onnx/summary';
import type { TensorRecord } from '../onnx/tensor-record';
import { rawFloat32Bytes, readFloatValues } from '../onnx/float/tensor-values';
import { FloatScratch } from '../onnx/float/scratch';
import type { TensorInfo } from '../onnx/manifest';
import { floatKernels } from '../kernels/float-kernels';
import type { FloatKernels } from '../kernels/float-kernels';
import type { AggregatedTensors, ClientUpdate } from './strategies/strategy';
import { isAggregationError } from './errors';
import { Arena, chunkArenaBytes, closeIndexed, forEachIndexedChunk, openIndexed } from './indexed';
import type { ChunkValues, IndexedUpdate } from './indexed';

/** Updates open at a time when they are read by position: bounds file descriptors and buffers in large rounds. */
const OPEN_AT_ONCE = 64;
/**
 * Bytes of chunk buffers the positional fold may take (two sets of a chunk per update): at most 48 MiB and a
 * quarter of the sums (half a model), so that with few updates a chunk is up to 256K coordinates (1 MiB reads, fewer
 * calls) and with many or a small model a smaller one, at least 16K.
 */
function foldChunk(updates: number, sumBytes: number): number {
  const budget = Math.min(48 << 20, Math.max(4 << 20, sumBytes / 4));
  const fits = budget / (2 * 8 * Math.max(1, updates));
  return 2 ** Math.max(14, Math.min(18, Math.floor(Math.log2(fits))));
}

/**
 * The sample-size-weighted mean of the updates' float initializers as float64 sums. Each update is checked against
 * the global model (graph, manifest, non-float values); the updates are folded in the order given, which the engine
 * fixes by client id, so every coordinate's sum is 0 + w₁x₁ + w₂x₂ + … in that order and the result is the same bit
 * for bit whichever way they are read. Stored updates are read by position, up to `OPEN_AT_ONCE` at a time, a chunk
 * of coordinates of all of them at once (`indexed.ts`); others stream one update and one tensor at a time.
 *
 * The sums live in a WebAssembly memory with the chunk buffers, where the SIMD kernels fold the chunks as they are
 * read, and later check and narrow the result (`src/kernels`); without WebAssembly, or for sums beyond what it can
 * address (4 GiB, about 500M parameters), the same loops run in JavaScript.
 */
export async function foldWeightedMean(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
): Promise<AggregatedTensors> {
  const floats = global.manifest.filter((info) => info.isFloat);
  const sumBytes = floats.reduce((sum, info) => sum + Math.ceil((8 * info.elementCount) / 16) * 16, 0);
  // Chunk buffers only when the updates can be read by position (else they stream, into the sums alone).
  const positional = updates.every((update) => update.source.openAccess !== undefined);
  const chunkSize = foldChunk(Math.min(OPEN_AT_ONCE, updates.length), sumBytes);
  const chunkBytes = positional ? chunkArenaBytes(global, Math.min(OPEN_AT_ONCE, updates.length), chunkSize) : 0;
  const kernels = floatKernels(sumBytes + chunkBytes);
  const arena = kernels ? new Arena(kernels.memory.buffer) : undefined;
  if (kernels) {
    // Touch every page of the sums before folding: a page's first write faulting inside WebAssembly code costs
    // several times what it does in a fill (measured: 0.5 s more for 29M parameters).
    new Uint8Array(kernels.memory.buffer, 0, sumBytes).fill(0);
  }
  const sums: AggregatedTensors = new Map();
  for (const info of floats) {
    const at = arena?.allocate(8 * info.elementCount);
    sums.set(
      info.name,
      arena ? new Float64Array(arena.buffer, at, info.elementCount) : new Float64Array(info.elementCount),
    );
  }
  const total = updates.reduce((sum, update) => sum + update.sampleSize, 0);
  for (let start = 0; start < updates.length; start += OPEN_AT_ONCE) {
    const group = updates.slice(start, start + OPEN_AT_ONCE);
    const indexed = await openIndexed(global, group);
    if (indexed === undefined) {
      await foldStreamed(global, group, total, sums);
      continue;
    }
    const used = arena?.used ?? 0;
    try {
      await foldIndexed(global, indexed, total, sums, chunkSize, kernels && arena ? { kernels, arena } : undefined);
    } finally {
      arena?.release(used);
      await closeIndexed(indexed);
    }
  }
  return sums;
}

/**
 * Adds a chunk of every update at a time, each scaled by n_i / Σn, to the sums: with the kernels, the chunks are
 * read into their memory and folded there into the sums (no copy); else the same loop runs in JavaScript.
 */
async function foldIndexed(
  global: ModelSummary,
  indexed: readonly IndexedUpdate[],
  total: number,
  sums: AggregatedTensors,
  chunkSize: number,
  wasm: { kernels: FloatKernels; arena: Arena } | undefined,
): Promise<void> {
  const weights = indexed.map((entry) => entry.update.sampleSize / total);
  const visit = (info: TensorInfo, offset: number, values: ChunkValues): void => {
    const sum = sums.get(info.name)?.subarray(offset, offset + (values[0]?.length ?? 0));
    if (sum === undefined) {
      return;
    }
    values.forEach((chunk, k) => {
      const weight = weights[k] ?? 0;
      if (wasm === undefined || chunk.buffer !== wasm.arena.buffer) {
        // No kernels, or a small tensor's values kept with the index.
        addScaled(sum, chunk, weight);
      } else if (chunk instanceof Float32Array) {
        wasm.kernels.fold32(sum.byteOffset, chunk.byteOffset, sum.length, weight);
      } else {
        wasm.kernels.fold64(sum.byteOffset, chunk.byteOffset, sum.length, weight);
      }
    });
  };
  await forEachIndexedChunk(global, indexed, chunkSize, visit, wasm?.arena);
}

function addScaled(sum: Float64Array, values: Float32Array | Float64Array, weight: number): void {
  if (values instanceof Float32Array) {
    addScaled32(sum, values, weight);
  } else {
    addScaled64(sum, values, weight);
  }
}

/** Streams one update at a time, one tensor at a time, into the sums. */
async function foldStreamed(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
  total: number,
  sums: AggregatedTensors,
): Promise<void> {
  const scratch = new FloatScratch();
  for (const update of updates) {
    // n_i / Σn, not n_i then a final division: scaling every sample size by k then gives the same bits.
    const weight = update.sampleSize / total;
    try {
      await scanModel(openSource(update.source), {
        expected: global,
        onTensor: (record, info) => {
          const sum = sums.get(info.name);
          if (sum !== undefined) {
            foldTensor(sum, record, weight, scratch);
          }
        },
      });
    } catch (error) {
      throw isAggregationError(error) ? error.forClient(update.clientId) : error;
    }
  }
}

/** sum += weight · values of one tensor. float32 raw_data (what exporters write) is read in place, not copied. */
function foldTensor(sum: Float64Array, record: TensorRecord, weight: number, scratch: FloatScratch): void {
  const raw = rawFloat32Bytes(record);
  if (raw === undefined) {
    const values = readFloatValues(record, scratch);
    if (values instanceof Float32Array) {
      addScaled32(sum, values, weight);
    } else {
      addScaled64(sum, values, weight);
    }
  } else if (raw.byteOffset % 4 === 0) {
    addScaled32(sum, new Float32Array(raw.buffer, raw.byteOffset, sum.length), weight);
  } else {
    addScaledBytes(sum, new DataView(raw.buffer, raw.byteOffset, raw.byteLength), weight);
  }
}

// Monomorphic loops, one per source type: a single polymorphic loop runs several times slower in V8.
function addScaled32(sum: Float64Array, values: Float32Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

function addScaled64(sum: Float64Array, values: Float64Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

/** Unaligned raw_data (it usually starts at an odd offset in the TensorProto): DataView reads as fast as a copy. */
function addScaledBytes(sum: Float64Array, values: DataView, weight: number): void {
  for (let i = 0; i < sum.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * values.getFloat32(4 * i, true);
  }
}

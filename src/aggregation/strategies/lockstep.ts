import { isAggregationError } from '../errors';
import { Arena, chunkArenaBytes, closeIndexed, forEachIndexedChunk, openIndexed } from '../indexed';
import type { ChunkValues, IndexedUpdate, IndexedVisitor } from '../indexed';
import { floatKernels } from '../../kernels/float-kernels';
import { FloatChunkReader } from '../../onnx/float/chunk-reader';
import type { TensorInfo } from '../../onnx/manifest';
import { scanModel } from '../../models/scan';
import { openSource } from '../../onnx/model-source';
import type { ModelSummary } from '../../onnx/summary';
import type { ClientUpdate } from './strategy';

/**
 * Sees the same chunk of one float tensor of every update at once, in the updates' order: coordinates
 * `offset … offset + length − 1` of tensor `info`. Chunks of a tensor come in order and end at its last coordinate;
 * a tensor of no elements comes as one empty chunk. The arrays are reused once the visitor returns.
 */
export type LockstepVisitor = (info: TensorInfo, offset: number, chunks: readonly Float64Array[]) => void;

/** Coordinates per chunk unless the caller says otherwise: 512 KiB of float64 per update. */
export const DEFAULT_CHUNK_SIZE = 65536;

/**
 * For kernels: when every update is read by position, the chunks are read into `arena` (a kernel memory, sized with
 * `lockstepMemory`) as stored, float32 not widened, and `visit` sees them instead of the float64 visitor.
 */
export interface StoredChunks {
  readonly arena: Arena;
  readonly visit: IndexedVisitor;
}

/**
 * A kernel memory for a pass over `updates` updates of `global`: room for the chunk buffers the positional reads take
 * plus `extraBytes` of the caller's, or undefined without WebAssembly or beyond what it addresses.
 */
export function lockstepMemory(
  global: ModelSummary,
  updates: number,
  extraBytes: number,
  chunkSize: number = DEFAULT_CHUNK_SIZE,
): { memory: WebAssembly.Memory; arena: Arena } | undefined {
  const kernels = floatKernels(chunkArenaBytes(global, updates, chunkSize) + extraBytes);
  return kernels && { memory: kernels.memory, arena: new Arena(kernels.memory.buffer) };
}

/**
 * The byte address of every chunk in `table` (int32, one per update) when all are float32 in `arena`, for a kernel to
 * read them where they are; false when some is not (a small tensor kept with the index, another type).
 */
export function chunkTable(values: ChunkValues, arena: Arena, table: Int32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const chunk = values[i];
    if (!(chunk instanceof Float32Array) || chunk.buffer !== arena.buffer) {
      return false;
    }
    table[i] = chunk.byteOffset;
  }
  return true;
}

/** Coordinates `from … to − 1` of every update's chunk widened to float64 in `into` (a reused buffer per update). */
export function widenRange(values: ChunkValues, from: number, to: number, into: Float64Array[]): Float64Array[] {
  return values.map((chunk, i) => {
    let buffer = into[i];
    if (buffer === undefined || buffer.length < to - from) {
      buffer = new Float64Array(Math.max(to - from, chunk.length));
      into[i] = buffer;
    }
    const target = buffer.subarray(0, to - from);
    target.set(chunk.subarray(from, to));
    return target;
  });
}

/**
 * Reads every update at the same time, one chunk of coordinates of one float tensor at a time: `visit` gets the
 * chunk of all updates together, widened to float64, then every reader moves on. Each update is checked against the
 * global model first. Stored updates are read by position (`indexed.ts`): memory is a few chunks per update,
 * whatever the model's size, so the rules that need every client's value of a coordinate (the median) never hold
 * whole models. Updates that only stream are streamed together; the scanner then also buffers one TensorProto per
 * update.
 */
export async function forEachChunkInLockstep(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
  visit: LockstepVisitor,
  chunkSize: number = DEFAULT_CHUNK_SIZE,
  stored?: StoredChunks,
): Promise<void> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunk size must be a positive integer (got ${chunkSize})`);
  }
  const largest = global.manifest.reduce((most, info) => (info.isFloat ? Math.max(most, info.elementCount) : most), 0);
  const indexed = await openIndexed(global, updates);
  if (indexed !== undefined) {
    try {
      if (stored === undefined) {
        await visitIndexed(global, indexed, visit, Math.min(chunkSize, largest), chunkSize);
      } else {
        await forEachIndexedChunk(global, indexed, chunkSize, stored.visit, stored.arena);
      }
    } finally {
      await closeIndexed(indexed);
    }
    return;
  }
  const barrier = new Barrier(updates.length, visit);
  await Promise.all(
    updates.map(async (update, index) => {
      const buffer = new Float64Array(Math.min(chunkSize, largest));
      try {
        await scanModel(openSource(update.source), {
          expected: global,
          onTensor: async (record, info) => {
            if (!info.isFloat) {
              return;
            }
            // The record's bytes stay valid until this returns: every chunk is read and visited before that.
            const reader = new FloatChunkReader(record);
            let offset = 0;
            do {
              const chunk = buffer.subarray(0, Math.min(chunkSize, info.elementCount - offset));
              reader.read(chunk);
              await barrier.arrive(index, info, offset, chunk);
              offset += chunk.length;
            } while (offset < info.elementCount);
          },
        });
      } catch (error) {
        const failure = isAggregationError(error) ? error.forClient(update.clientId) : error;
        // The other streams are waiting for this one's next chunk: fail them too, so they close their sources.
        barrier.fail(failure);
        throw failure;
      }
    }),
  );
}

/** Visits chunks read by position, widening float32 ones into a buffer per update. */
async function visitIndexed(
  global: ModelSummary,
  indexed: readonly IndexedUpdate[],
  visit: LockstepVisitor,
  bufferLength: number,
  chunkSize: number,
): Promise<void> {
  const widened = indexed.map(() => new Float64Array(bufferLength));
  const chunks: Float64Array[] = indexed.map(() => new Float64Array(0));
  await forEachIndexedChunk(global, indexed, chunkSize, (info, offset, values) => {
    values.forEach((chunk, k) => {
      if (chunk instanceof Float64Array) {
        chunks[k] = chunk;
        return;
      }
      const target = (widened[k] ?? new Float64Array(chunk.length)).subarray(0, chunk.length);
      target.set(chunk);
      chunks[k] = target;
    });
    visit(info, offset, chunks);
  });
}

/** Holds each stream at its chunk until every stream has arrived, then visits them together and lets them go on. */
class Barrier {
  /**
   * One slot per stream, filled before any is read (a packed array: the visitor's inner loops read it per
   * coordinate). Reused chunk after chunk: no stream arrives again before the visitor has returned.
   */
  private readonly values: Float64Array[];
  private arrived = 0;
  private gate = openGate();
  private failure: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly visit: LockstepVisitor,
  ) {
    this.values = Array.from({ length: size }, () => new Float64Array(0));
  }

  async arrive(index: number, info: TensorInfo, offset: number, values: Float64Array): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.values[index] = values;
    this.arrived += 1;
    const gate = this.gate;
    if (this.arrived === this.size) {
      this.arrived = 0;
      this.gate = openGate();
      try {
        this.visit(info, offset, this.values);
      } catch (error) {
        this.fail(error);
        gate.reject(error);
        throw error;
      }
      gate.resolve();
      return;
    }
    await gate.promise;
  }

  fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.gate.reject(this.failure);
  }
}

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function openGate(): Gate {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A gate nobody awaits any more must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

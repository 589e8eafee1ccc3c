import type { TensorInfo } from '../onnx/manifest';
import type { ModelSource } from '../onnx/model-source';
import { FloatChunkReader } from '../onnx/float/chunk-reader';
import { checkRawLength, floatStorage } from '../onnx/float/tensor-values';
import { floatDType } from '../onnx/schema';
import type { FloatDType } from '../onnx/schema';
import { scanOnnxModelAt } from '../onnx/scan';
import { formatAt } from '../models/scan';
import type { ModelSummary } from '../onnx/summary';
import type { TensorRecord } from '../onnx/tensor-record';
import type { RandomAccess } from '../storage/random-access';
import { checkSameLayout } from '../torch/engine';
import { readTorchModelAt } from '../torch/positional';
import { AggregationError, isAggregationError } from './errors';
import type { ClientUpdate } from './strategies/strategy';

/**
 * Aggregation by position: each update is indexed first (its structure read and checked against the global model,
 * its float values skipped), then the strategy sees one chunk of coordinates of every update at a time, read from
 * where the index says straight into buffers reused chunk after chunk. Nothing the size of a tensor is read into
 * memory per update, no stream chunk is gathered or collected, and the reads of the next chunk overlap the work on
 * this one. Used whenever every update is stored (a file, a blob), ONNX or PyTorch; streams are streamed.
 */

/** Where one float initializer's values are: at a byte position of the file, or already read (a small tensor). */
type IndexedValues =
  | {
      readonly kind: 'stored';
      readonly position: number;
      readonly dtype: FloatDType;
      readonly name: string;
      /** TensorProto.DataType code (the half-precision readers go by it). */
      readonly dataType: number;
    }
  | { readonly kind: 'inline'; readonly values: Float64Array };

/** One update opened for positional reads, with its float initializers located. */
export interface IndexedUpdate {
  readonly update: ClientUpdate;
  readonly access: RandomAccess;
  readonly tensors: ReadonlyMap<string, IndexedValues>;
}

/** One chunk's values of every update: float32 as stored, every other type widened to float64. */
export type ChunkValues = readonly (Float32Array | Float64Array)[];

/**
 * Sees chunk `offset … offset + length − 1` of float tensor `info` of every update, in the updates' order; the
 * arrays are reused once the visitor returns. Chunks of a tensor come in order; a tensor of no elements comes once,
 * empty.
 */
export type IndexedVisitor = (info: TensorInfo, offset: number, values: ChunkValues) => void;

/**
 * Opens and indexes the updates, checking each against the global model. Returns undefined, with nothing left open,
 * when some update cannot be read by position (a stream, or a format other than the global model's): the caller then
 * streams them all. An
 * update that is refused fails the whole call with its client named; several refused, the first in order is named.
 */
export async function openIndexed(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
): Promise<IndexedUpdate[] | undefined> {
  if (updates.some((update) => update.source.openAccess === undefined)) {
    return undefined;
  }
  const opened = await Promise.allSettled(updates.map((update) => indexUpdate(global, update)));
  const indexed = opened.flatMap((result) => (result.status === 'fulfilled' && result.value ? [result.value] : []));
  const failure = opened.find((result) => result.status === 'rejected');
  if (failure !== undefined || indexed.length < updates.length) {
    await closeIndexed(indexed);
  }
  if (failure !== undefined) {
    throw failure.reason;
  }
  return indexed.length < updates.length ? undefined : indexed;
}

/** Closes every update's file. */
export async function closeIndexed(indexed: readonly IndexedUpdate[]): Promise<void> {
  await Promise.allSettled(indexed.map((entry) => entry.access.close()));
}

async function indexUpdate(global: ModelSummary, update: ClientUpdate): Promise<IndexedUpdate | undefined> {
  const access = await openAccessOf(update.source);
  try {
    const torch = (await formatAt(access)) === 'torch';
    if (torch !== (global.torch !== undefined)) {
      // An archive against an ONNX global model or the other way round: the streamed fold refuses it in its words.
      await access.close();
      return undefined;
    }
    if (torch) {
      return { update, access, tensors: await indexTorchUpdate(global, access) };
    }
    const tensors = new Map<string, IndexedValues>();
    await scanOnnxModelAt(access, {
      expected: global,
      onTensor: (record, info) => {
        if (info.isFloat) {
          tensors.set(info.name, indexValues(record));
        }
      },
    });
    return { update, access, tensors };
  } catch (error) {
    await access.close();
    throw isAggregationError(error) ? error.forClient(update.clientId) : error;
  }
}

async function openAccessOf(source: ModelSource): Promise<RandomAccess> {
  const open = source.openAccess;
  if (open === undefined) {
    throw new Error('the source does not read by position');
  }
  return await open();
}

/** Locates a float initializer's values; a small one (read with the structure) is widened and kept. */
function indexValues(record: TensorRecord): IndexedValues {
  const dtype = floatStorage(record);
  if (record.elided === undefined) {
    const values = new Float64Array(record.elementCount);
    new FloatChunkReader(record).read(values);
    return { kind: 'inline', values };
  }
  checkRawLength(record, dtype, record.elided.length);
  const { name, dataType } = record;
  return { kind: 'stored', position: record.elided.position, dtype, name, dataType };
}

/**
 * Indexes a PyTorch archive by position (`readTorchModelAt`: its storages are not read) after checking its layout
 * against the global model's: each float tensor is contiguous in its storage (the reader refuses others), so its
 * values start at the storage entry's data plus the tensor's storage offset.
 */
async function indexTorchUpdate(global: ModelSummary, access: RandomAccess): Promise<Map<string, IndexedValues>> {
  const model = await readTorchModelAt(access);
  checkSameLayout(model.summary, global);
  const tensors = new Map<string, IndexedValues>();
  model.archive.manifest.forEach((entry, index) => {
    const info = model.summary.manifest[index];
    const dtype = info === undefined ? undefined : floatDType(info.dataType);
    const storage = model.archive.storages.get(entry.storageKey);
    if (info?.isFloat === true && dtype !== undefined && storage !== undefined) {
      const position = storage.entry.dataOffset + entry.storageOffset * WIDTH[dtype];
      tensors.set(info.name, { kind: 'stored', position, dtype, name: info.name, dataType: info.dataType });
    }
  });
  return tensors;
}

/** Bytes per value as stored. */
const WIDTH: Readonly<Record<FloatDType, number>> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

/**
 * Memory handed out in 16-byte-aligned pieces from one buffer (a WebAssembly memory, so that a kernel can fold the
 * chunks where they were read). It never grows: growing a WebAssembly memory would detach every view into it.
 */
export class Arena {
  private next = 0;

  constructor(readonly buffer: ArrayBuffer) {}

  /** The byte offset of `bytes` fresh bytes. */
  allocate(bytes: number): number {
    const at = this.next;
    if (at + bytes > this.buffer.byteLength) {
      throw new RangeError(`the arena holds ${this.buffer.byteLength} bytes; ${at + bytes} were asked for`);
    }
    this.next = at + Math.ceil(bytes / 16) * 16;
    return at;
  }

  /** How much is handed out: `release` of it later takes back everything allocated after. */
  get used(): number {
    return this.next;
  }

  release(used: number): void {
    this.next = Math.min(this.next, used);
  }
}

/** Bytes of arena `forEachIndexedChunk` takes for `updates` updates of `global` read `chunkSize` coordinates at a time. */
export function chunkArenaBytes(global: ModelSummary, updates: number, chunkSize: number): number {
  return 2 * updates * (Math.ceil((bufferLength(global, chunkSize) * 8) / 16) * 16);
}

/** Coordinates a chunk buffer holds: a chunk, or the largest float tensor when that is smaller. */
function bufferLength(global: ModelSummary, chunkSize: number): number {
  const largest = global.manifest.reduce((most, info) => (info.isFloat ? Math.max(most, info.elementCount) : most), 0);
  return Math.min(chunkSize, largest);
}

/** One update's reusable chunk buffers: the stored bytes (aligned for any width) and a float64 view for widening. */
class ChunkBuffer {
  private readonly bytes: Uint8Array;
  private readonly float32: Float32Array;
  private readonly float64: Float64Array;
  /** Half-precision values widened, made at the first such chunk. */
  private widened: Float64Array | undefined;

  constructor(chunkSize: number, arena?: Arena) {
    const buffer = arena?.buffer ?? new ArrayBuffer(chunkSize * 8);
    const at = arena?.allocate(chunkSize * 8) ?? 0;
    this.bytes = new Uint8Array(buffer, at, chunkSize * 8);
    this.float32 = new Float32Array(buffer, at, chunkSize * 2);
    this.float64 = new Float64Array(buffer, at, chunkSize);
  }

  /** Reads values `offset … offset + length − 1` of `name` of the update. */
  async read(
    entry: IndexedUpdate,
    info: TensorInfo,
    offset: number,
    length: number,
  ): Promise<Float32Array | Float64Array> {
    const values = entry.tensors.get(info.name);
    if (values === undefined) {
      throw new Error(`the index of client ${entry.update.clientId} lacks "${info.name}"`);
    }
    if (values.kind === 'inline') {
      return values.values.subarray(offset, offset + length);
    }
    const width = WIDTH[values.dtype];
    const bytes = this.bytes.subarray(0, length * width);
    const read = await entry.access.readInto(bytes, values.position + offset * width);
    if (read !== bytes.length) {
      const message = `the update of client ${entry.update.clientId} changed while it was read: "${info.name}" ends early`;
      throw new AggregationError('model_truncated', message, { tensor: info.name }).forClient(entry.update.clientId);
    }
    if (values.dtype === 'float32') {
      return this.float32.subarray(0, length);
    }
    if (values.dtype === 'float64') {
      return this.float64.subarray(0, length);
    }
    this.widened ??= new Float64Array(this.float64.length);
    const out = this.widened.subarray(0, length);
    const span = { start: 0, end: bytes.length };
    const { name, dataType } = values;
    const chunk = { name, dataType, dims: [length], elementCount: length, payload: bytes, rawData: span };
    new FloatChunkReader({ ...chunk, valueFields: [] }).read(out);
    return out;
  }
}

/**
 * Visits every float tensor of the global model chunk by chunk with every update's values of that chunk (see
 * `IndexedVisitor`). Two sets of buffers take turns, so the reads of the next chunk (positional reads, in the
 * thread pool for files) run while the visitor works on this one. Memory: 2 × updates × `chunkSize` × 8 bytes,
 * from `arena` when given (`chunkArenaBytes`).
 */
export async function forEachIndexedChunk(
  global: ModelSummary,
  indexed: readonly IndexedUpdate[],
  chunkSize: number,
  visit: IndexedVisitor,
  arena?: Arena,
): Promise<void> {
  const steps = global.manifest
    .filter((info) => info.isFloat)
    .flatMap((info) => chunksOf(info, chunkSize).map((offset) => ({ info, offset })));
  const largest = bufferLength(global, chunkSize);
  const lanes = (): { entry: IndexedUpdate; buffer: ChunkBuffer }[] =>
    indexed.map((entry) => ({ entry, buffer: new ChunkBuffer(largest, arena) }));
  const even = lanes();
  const odd = lanes();
  const readStep = (index: number): Promise<(Float32Array | Float64Array)[]> => {
    const step = steps[index];
    if (step === undefined) {
      return Promise.resolve([]);
    }
    const length = Math.min(chunkSize, step.info.elementCount - step.offset);
    const lane = index % 2 === 0 ? even : odd;
    return Promise.all(lane.map(({ entry, buffer }) => buffer.read(entry, step.info, step.offset, length)));
  };
  let pending = readStep(0);
  try {
    for (let index = 0; index < steps.length; index++) {
      const values = await pending;
      pending = readStep(index + 1);
      const step = steps[index];
      if (step !== undefined) {
        visit(step.info, step.offset, values);
      }
    }
  } finally {
    // A read still in flight (the visitor threw) must settle before the caller closes the files.
    await pending.catch(() => undefined);
  }
}

/** The chunk offsets of a tensor: one, empty, for a tensor of no elements. */
function chunksOf(info: TensorInfo, chunkSize: number): number[] {
  const offsets: number[] = [];
  for (let offset = 0; offset < info.elementCount || offsets.length === 0; offset += chunkSize) {
    offsets.push(offset);
  }
  return offsets;
}

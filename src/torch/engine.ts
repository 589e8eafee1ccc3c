import { createHash } from 'node:crypto';
import { AggregationError } from '../aggregation/errors';
import type { TensorInfo } from '../onnx/manifest';
import type { ScanOptions } from '../onnx/scan';
import { TensorField, WireType } from '../onnx/schema';
import type { ModelSummary, TorchLayout } from '../onnx/summary';
import type { TensorRecord } from '../onnx/tensor-record';
import { readTorchArchive } from './archive';
import type { ReadOptions, TorchArchive } from './archive';
import { ITEM_SIZE } from './dtypes';
import type { TorchDtype } from './dtypes';
import { isTorchArchiveError } from './errors';
import type { TensorManifestEntry } from './manifest';

/** The TensorProto.DataType code of each storage dtype: the engine's float readers and writers speak those codes. */
const DATA_TYPE: Readonly<Record<TorchDtype, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

const FLOAT_DTYPES: ReadonlySet<TorchDtype> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** A PyTorch archive held whole and read: the bytes, what the reader found, and the engine's summary of it. */
export interface ReadTorchModel {
  readonly bytes: Uint8Array;
  readonly archive: TorchArchive;
  readonly summary: ModelSummary;
}

/**
 * Reads a PyTorch archive (CRC-32s checked unless `options` say not) and summarizes it the way the engine summarizes an ONNX model: the
 * manifest (every tensor's name, dtype and shape) plus the layout an update must repeat (kind, storage offsets and
 * strides). Float tensors must each be contiguous in their storage, and may share bytes only as the very same view
 * (tied weights), so that an aggregate can be written back into the storages. Refusals are `AggregationError`s
 * carrying the reader's `torch_*` code.
 */
export function readTorchModel(bytes: Uint8Array, options: ReadOptions = {}): ReadTorchModel {
  const archive = asAggregationError(() => readTorchArchive(bytes, options));
  checkFloatViews(archive);
  const torch = { kind: archive.kind, tensors: archive.manifest };
  // The digest covers what an update must repeat: storage keys are the saver's numbering, only their sharing counts.
  const shared = sharing(torch);
  const layout = archive.manifest.map(({ storageKey: _key, ...tensor }, i) => ({ ...tensor, storage: shared[i] }));
  const summary: ModelSummary = {
    manifest: archive.manifest.map(tensorInfo),
    graphDigest: createHash('sha256')
      .update(JSON.stringify({ kind: archive.kind, layout }))
      .digest('hex'),
    structure: [],
    layout: [],
    byteLength: bytes.length,
    torch,
  };
  return { bytes, archive, summary };
}

/**
 * `scanModel` for a PyTorch archive: reads it, refuses it unless its layout equals `options.expected`'s (when given),
 * and shows each float tensor to `options.onTensor` as a record whose raw data is the tensor's bytes in its storage.
 * Integer tensors (`num_batches_tracked`) are not shown: aggregates keep the global model's.
 */
export async function scanTorchModel(bytes: Uint8Array, options: ScanOptions = {}): Promise<ModelSummary> {
  const model = readTorchModel(bytes);
  if (options.expected !== undefined) {
    checkSameLayout(model.summary, options.expected);
  }
  const infos = model.summary.manifest;
  for (const [index, entry] of model.archive.manifest.entries()) {
    const info = infos[index];
    if (info?.isFloat) {
      await options.onTensor?.(tensorRecord(model, entry, info), info);
    }
  }
  return model.summary;
}

/** The bytes of one tensor inside its storage entry (contiguous, as `readTorchModel` checked for float tensors). */
export function tensorBytes(model: ReadTorchModel, entry: TensorManifestEntry): Uint8Array {
  const storage = model.archive.storages.get(entry.storageKey);
  if (storage === undefined) {
    throw new Error(`no storage ${entry.storageKey}`);
  }
  const size = ITEM_SIZE[entry.dtype];
  const count = entry.shape.reduce((product, length) => product * length, 1);
  const start = storage.entry.dataOffset + entry.storageOffset * size;
  return model.bytes.subarray(start, start + count * size);
}

/**
 * Refuses an update whose archive is not of the global model's kind or whose tensors differ from its in name,
 * dtype, shape, strides or storage offset; names the first difference. Everything else may differ (folder name,
 * serialization id, code, debug pickles, `training` flags, memo numbering).
 */
export function checkSameLayout(update: ModelSummary, global: ModelSummary): void {
  const expected = global.torch;
  const actual = update.torch;
  if (expected === undefined || actual === undefined) {
    const message =
      expected === undefined
        ? 'the global model is an ONNX model; this is a PyTorch archive: upload the update as ONNX too'
        : `the global model is a PyTorch ${kindName(expected.kind)} archive; upload the update as one too`;
    throw new AggregationError('model_graph_mismatch', message);
  }
  if (actual.kind !== expected.kind) {
    const message = `the update is a ${kindName(actual.kind)} archive, the global model a ${kindName(expected.kind)} archive`;
    throw new AggregationError('model_graph_mismatch', message);
  }
  const names = new Set(actual.tensors.map((tensor) => tensor.name));
  const missing = expected.tensors.find((tensor) => !names.has(tensor.name));
  if (missing !== undefined) {
    throw manifestMismatch(missing.name, `the update has no tensor "${missing.name}"`);
  }
  actual.tensors.forEach((tensor, i) => {
    const want = expected.tensors[i];
    if (want === undefined || want.name !== tensor.name) {
      throw manifestMismatch(
        tensor.name,
        `the update's tensor "${tensor.name}" is not the global model's ${ordinal(i)}`,
      );
    }
    const differs = (['dtype', 'shape', 'strides', 'storageOffset'] as const).find(
      (key) => JSON.stringify(tensor[key]) !== JSON.stringify(want[key]),
    );
    if (differs !== undefined) {
      const message = `tensor "${tensor.name}" has ${describeField(differs, tensor)} where the global model has ${describeField(differs, want)}`;
      throw manifestMismatch(tensor.name, message);
    }
  });
  const [ours, theirs] = [sharing(actual), sharing(expected)];
  const split = ours.findIndex((first, i) => first !== theirs[i]);
  if (split >= 0) {
    const name = actual.tensors[split]?.name ?? '';
    const message = `tensor "${name}" shares its storage with other tensors than in the global model (tied or untied weights)`;
    throw manifestMismatch(name, message);
  }
}

/** For each tensor, the index of the first tensor that uses its storage: which tensors share bytes, whatever the keys. */
function sharing(layout: TorchLayout): number[] {
  const first = new Map<string, number>();
  return layout.tensors.map((tensor, i) => {
    const seen = first.get(tensor.storageKey);
    if (seen === undefined) {
      first.set(tensor.storageKey, i);
      return i;
    }
    return seen;
  });
}

function describeField(key: 'dtype' | 'shape' | 'strides' | 'storageOffset', tensor: TensorManifestEntry): string {
  if (key === 'dtype') {
    return `dtype ${tensor.dtype}`;
  }
  if (key === 'storageOffset') {
    return `storage offset ${tensor.storageOffset}`;
  }
  return `${key} [${tensor[key].join(', ')}]`;
}

function manifestMismatch(tensor: string, message: string): AggregationError {
  return new AggregationError('model_manifest_mismatch', message, { tensor });
}

function kindName(kind: string): string {
  return kind === 'torchscript' ? 'TorchScript' : 'state dict';
}

function ordinal(index: number): string {
  return `tensor number ${index + 1}`;
}

/** A float tensor as the engine's readers take it: its bytes as the record's raw data. */
function tensorRecord(model: ReadTorchModel, entry: TensorManifestEntry, info: TensorInfo): TensorRecord {
  const payload = tensorBytes(model, entry);
  const span = { start: 0, end: payload.length };
  return {
    name: entry.name,
    dataType: info.dataType,
    dims: info.shape,
    elementCount: info.elementCount,
    payload,
    rawData: span,
    valueFields: [{ ...span, field: TensorField.RAW_DATA, wireType: WireType.LEN }],
  };
}

function tensorInfo(entry: TensorManifestEntry): TensorInfo {
  return {
    name: entry.name,
    dtype: entry.dtype,
    dataType: DATA_TYPE[entry.dtype],
    shape: [...entry.shape],
    elementCount: entry.shape.reduce((product, length) => product * length, 1),
    isFloat: FLOAT_DTYPES.has(entry.dtype),
  };
}

/**
 * Float tensors must be contiguous (row-major strides, as `tensor.contiguous()` leaves them) and must not overlap one
 * another unless they are the same view: the aggregate of each is written back over its own bytes.
 */
function checkFloatViews(archive: TorchArchive): void {
  const views = new Map<string, { entry: TensorManifestEntry; start: number; end: number }[]>();
  for (const entry of archive.manifest) {
    const count = entry.shape.reduce((product, length) => product * length, 1);
    if (!FLOAT_DTYPES.has(entry.dtype) || count === 0) {
      continue;
    }
    if (!isContiguous(entry)) {
      throw new AggregationError(
        'torch_tensor_invalid',
        `the tensor ${entry.name} is not contiguous (shape [${entry.shape.join(', ')}], strides [${entry.strides.join(', ')}]); save the model after calling .contiguous() on it`,
        { tensor: entry.name },
      );
    }
    const start = entry.storageOffset;
    const end = start + count;
    const others = views.get(entry.storageKey) ?? [];
    const overlap = others.find((other) => other.start < end && start < other.end);
    if (overlap !== undefined && !(overlap.start === start && overlap.end === end && sameView(overlap.entry, entry))) {
      throw new AggregationError(
        'torch_tensor_invalid',
        `the tensors ${overlap.entry.name} and ${entry.name} share elements of storage ${entry.storageKey} without being the same view`,
        { tensor: entry.name },
      );
    }
    others.push({ entry, start, end });
    views.set(entry.storageKey, others);
  }
}

function isContiguous(entry: TensorManifestEntry): boolean {
  let expected = 1;
  for (let i = entry.shape.length - 1; i >= 0; i--) {
    const length = entry.shape[i] ?? 0;
    if (length !== 1 && entry.strides[i] !== expected) {
      return false;
    }
    expected *= length;
  }
  return true;
}

function sameView(a: TensorManifestEntry, b: TensorManifestEntry): boolean {
  return a.dtype === b.dtype && JSON.stringify([a.shape, a.strides]) === JSON.stringify([b.shape, b.strides]);
}

/** Runs the archive reader, its refusals turned into the engine's error with the same code and message. */
/** Runs `read`, turning the archive reader's refusals into the engine's `AggregationError` with the same code. */
export function asAggregationError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isTorchArchiveError(error)) {
      throw new AggregationError(error.code, error.message, error.tensor === undefined ? {} : { tensor: error.tensor });
    }
    throw error;
  }
}

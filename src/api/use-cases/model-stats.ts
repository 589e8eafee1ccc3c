import { sniffFormat } from '../../models/scan';
import { tensorInfo, type TensorInfo } from '../../onnx/manifest';
import { collectBytes } from '../../onnx/model-source';
import { walkModel } from '../../onnx/reader';
import { dtypeBytes, GraphField } from '../../onnx/schema';
import { decodeTensorRecord } from '../../onnx/tensor-record';
import { decodeValueInfo, type ValueInfo } from '../../onnx/value-info';
import type { BlobStore } from '../../storage/blob-store';
import { readTorchModel } from '../../torch/engine';

/** ONNX statistics of a model: graph inputs and outputs, and per initializer its size (the metadata's `stats`). */
export interface ModelStats {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  input_size: number[][] | null;
  total_params: number;
  trainable_params: number;
  total_param_bytes: number;
  summary_list: Array<{
    name: string;
    dtype: string;
    shape: number[];
    num_params: number;
    param_bytes: number;
    trainable: boolean;
  }>;
}

/**
 * The ONNX counterpart of the reference's torchinfo summary: graph inputs and outputs with their shapes, and one
 * entry per initializer with its parameter count and bytes. `input_size` is the declared `input_shape` with free
 * dimensions as 1, as the reference feeds torchinfo. A PyTorch archive has no graph inputs or outputs to show; its
 * entries are its tensors (integer buffers such as `num_batches_tracked` not trainable).
 */
export async function computeModelStats(
  chunks: AsyncIterable<Uint8Array>,
  inputShape: ReadonlyArray<number | null> | null,
): Promise<ModelStats> {
  return statsOf(await readParts(chunks), inputShape);
}

/** Stored weights' statistics kept, by digest, the most recently asked last. */
const CACHED_STATS = 128;
const partsByDigest = new Map<string, Promise<StatsParts>>();

/**
 * `computeModelStats` of the stored weights `digest` names. A digest names its bytes, so what was read once for it is
 * never stale: the last 128 are kept, and concurrent requests for one share its read. Reading a model is milliseconds
 * on the API thread (4.8 MB for the CNN fixture), which a dashboard or client asking for the metadata of the same
 * model over and over paid every time.
 */
export async function storedModelStats(
  blobs: BlobStore,
  digest: string,
  inputShape: ReadonlyArray<number | null> | null,
): Promise<ModelStats> {
  let parts = partsByDigest.get(digest);
  if (parts) {
    partsByDigest.delete(digest);
  } else {
    const reading = blobs.read(digest).then(readParts);
    // A failed read is not kept: the next request tries again.
    reading.catch(() => {
      if (partsByDigest.get(digest) === reading) {
        partsByDigest.delete(digest);
      }
    });
    parts = reading;
  }
  partsByDigest.set(digest, parts);
  for (const oldest of partsByDigest.keys()) {
    if (partsByDigest.size <= CACHED_STATS) {
      break;
    }
    partsByDigest.delete(oldest);
  }
  return statsOf(await parts, inputShape);
}

/** What the statistics are made of: the graph's inputs and outputs, and an entry per weight tensor. */
interface StatsParts {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly summary: ModelStats['summary_list'];
}

async function readParts(chunks: AsyncIterable<Uint8Array>): Promise<StatsParts> {
  const { format, stream } = await sniffFormat(chunks);
  if (format === 'torch') {
    const { manifest } = readTorchModel(await collectBytes(stream)).summary;
    return { inputs: [], outputs: [], summary: manifest.map(statsEntry) };
  }
  const inputs: ValueInfo[] = [];
  const outputs: ValueInfo[] = [];
  const summary: ModelStats['summary_list'] = [];
  for await (const event of walkModel(stream, true)) {
    if (event.kind === 'graph_field' && event.record.field === GraphField.INPUT) {
      inputs.push(decodeValueInfo(event.record.payload));
    } else if (event.kind === 'graph_field' && event.record.field === GraphField.OUTPUT) {
      outputs.push(decodeValueInfo(event.record.payload));
    } else if (event.kind === 'initializer') {
      summary.push(statsEntry(tensorInfo(decodeTensorRecord(event.record.payload, event.index))));
    }
  }
  // Older exporters list initializers among the graph inputs; they are weights, not inputs.
  const weights = new Set(summary.map((entry) => entry.name));
  return { inputs: inputs.filter((input) => !weights.has(input.name)), outputs, summary };
}

/** The statistics of `parts` (copies: the parts may be cached and shared) for a model declaring `inputShape`. */
function statsOf(
  { inputs, outputs, summary }: StatsParts,
  inputShape: ReadonlyArray<number | null> | null,
): ModelStats {
  return {
    inputs: structuredClone([...inputs]),
    outputs: structuredClone([...outputs]),
    input_size: inputShape ? [inputShape.map((dim) => dim ?? 1)] : null,
    total_params: summary.reduce((sum, entry) => sum + entry.num_params, 0),
    trainable_params: summary.reduce((sum, entry) => sum + (entry.trainable ? entry.num_params : 0), 0),
    total_param_bytes: summary.reduce((sum, entry) => sum + entry.param_bytes, 0),
    summary_list: summary.map((entry) => ({ ...entry, shape: [...entry.shape] })),
  };
}

function statsEntry(info: TensorInfo): ModelStats['summary_list'][number] {
  return {
    name: info.name,
    dtype: info.dtype,
    shape: [...info.shape],
    num_params: info.elementCount,
    param_bytes: info.elementCount * (dtypeBytes(info.dataType) ?? 0),
    trainable: info.isFloat,
  };
}

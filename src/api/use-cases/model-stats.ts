import { sniffFormat } from '../../models/scan';
import { tensorInfo, type TensorInfo } from '../../onnx/manifest';
import { collectBytes } from '../../onnx/model-source';
import { walkModel } from '../../onnx/reader';
import { dtypeBytes, GraphField } from '../../onnx/schema';
import { decodeTensorRecord } from '../../onnx/tensor-record';
import { decodeValueInfo, type ValueInfo } from '../../onnx/value-info';
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
  const { format, stream } = await sniffFormat(chunks);
  if (format === 'torch') {
    const { manifest } = readTorchModel(await collectBytes(stream)).summary;
    return statsOf([], [], manifest.map(statsEntry), inputShape);
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
  return statsOf(
    inputs.filter((input) => !weights.has(input.name)),
    outputs,
    summary,
    inputShape,
  );
}

function statsOf(
  inputs: ValueInfo[],
  outputs: ValueInfo[],
  summary: ModelStats['summary_list'],
  inputShape: ReadonlyArray<number | null> | null,
): ModelStats {
  return {
    inputs,
    outputs,
    input_size: inputShape ? [inputShape.map((dim) => dim ?? 1)] : null,
    total_params: summary.reduce((sum, entry) => sum + entry.num_params, 0),
    trainable_params: summary.reduce((sum, entry) => sum + (entry.trainable ? entry.num_params : 0), 0),
    total_param_bytes: summary.reduce((sum, entry) => sum + entry.param_bytes, 0),
    summary_list: summary,
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

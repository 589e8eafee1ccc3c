import { AggregationError } from '../aggregation/errors';
import { collectBytes, openSource } from '../onnx/model-source';
import type { ModelSource } from '../onnx/model-source';
import { scanOnnxModel, scanOnnxModelAt } from '../onnx/scan';
import type { ScanOptions } from '../onnx/scan';
import type { RandomAccess } from '../storage/random-access';
import type { ModelSummary } from '../onnx/summary';
import { scanTorchModel } from '../torch/engine';

/** What a model file is, by its first bytes: a zip or a pickle is read as PyTorch, all else as ONNX. */
export type ModelFormat = 'onnx' | 'torch';

/**
 * Reads a model once and summarizes it, whatever its format: ONNX streams through the ONNX scanner; a PyTorch
 * archive (which must be read from its end) is gathered and read by the archive reader. With `options.expected`, a
 * model of the other format than the global model's is refused as a graph mismatch. Throws `AggregationError`.
 */
export async function scanModel(chunks: AsyncIterable<Uint8Array>, options: ScanOptions = {}): Promise<ModelSummary> {
  const { format, stream } = await sniffFormat(chunks);
  if (format === 'torch') {
    return await scanTorchModel(await collectBytes(stream), options);
  }
  if (options.expected?.torch !== undefined) {
    const kind = options.expected.torch.kind === 'torchscript' ? 'TorchScript' : 'state dict';
    const message = `the global model is a PyTorch ${kind} archive; this file is not one: upload the update as one too`;
    throw new AggregationError('model_graph_mismatch', message);
  }
  return await scanOnnxModel(stream, options);
}

/**
 * `scanModel` over a source, by position when it offers that and holds ONNX: float values are then skipped, not read
 * (`onTensor` sees records whose values are elsewhere, `TensorRecord.elided`). The summary is the same either way.
 */
export async function scanSource(source: ModelSource, options: ScanOptions = {}): Promise<ModelSummary> {
  if (source.openAccess !== undefined) {
    const access = await source.openAccess();
    try {
      if ((await formatAt(access)) === 'onnx') {
        return await scanOnnxModelAt(access, options);
      }
    } finally {
      await access.close();
    }
  }
  return await scanModel(openSource(source), options);
}

/** The format of a model stream by its first bytes, and the stream again from its start. */
export async function sniffFormat(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ format: ModelFormat; stream: AsyncIterable<Uint8Array> }> {
  const iterator: AsyncIterator<Uint8Array, unknown> = chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < 2 && !done) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
    } else {
      head.push(next.value);
      length += next.value.length;
    }
  }
  const [a, b] = head.flatMap((chunk) => [...chunk.subarray(0, 2)]);
  const format = formatOf(a, b);
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      yield* head;
      if (!done) {
        yield* { [Symbol.asyncIterator]: () => iterator };
      }
    } finally {
      // A reader that stops early (a refusal at the first node) closes the source, even while still in `head`.
      await iterator.return?.();
    }
  }
  return { format, stream: replay() };
}

/** The format of a stored model by its first bytes, read by position. */
export async function formatAt(access: RandomAccess): Promise<ModelFormat> {
  const head = new Uint8Array(2);
  const read = await access.readInto(head, 0);
  return formatOf(read > 0 ? head[0] : undefined, read > 1 ? head[1] : undefined);
}

/**
 * A zip starts with "PK"; a pickle (PyTorch's legacy format among them) with PROTO (0x80), which the archive reader
 * refuses by name. ONNX starts with a field tag (0x08).
 */
export function formatOf(first: number | undefined, second: number | undefined): ModelFormat {
  return (first === 0x50 && second === 0x4b) || first === 0x80 ? 'torch' : 'onnx';
}

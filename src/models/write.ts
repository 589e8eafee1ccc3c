import type { ModelSource } from '../onnx/model-source';
import { bytesSource, collectBytes, openSource } from '../onnx/model-source';
import type { ModelSummary } from '../onnx/summary';
import { spliceModel, spliceModelAt } from '../onnx/writer';
import type { RawValueProvider } from '../onnx/writer';
import { checkSameLayout, readTorchModel, tensorBytes } from '../torch/engine';
import { writeTorchArchive } from '../torch/writer';

/**
 * The template model (the round's global model) with new values for the float tensors named in `replaced`, in its
 * own format: an ONNX model streams through the splicer; a PyTorch archive is read whole and written with new
 * storage bytes and CRC-32s. `summary` must describe the template, which is checked against it.
 */
export async function* writeWithValues(
  template: ModelSource,
  summary: ModelSummary,
  replaced: ReadonlySet<string>,
  valuesFor: RawValueProvider,
): AsyncGenerator<Uint8Array> {
  if (summary.torch === undefined && template.openAccess !== undefined) {
    const access = await template.openAccess();
    try {
      yield* spliceModelAt(access, summary, replaced, valuesFor);
    } finally {
      await access.close();
    }
    return;
  }
  if (summary.torch === undefined) {
    yield* spliceModel(openSource(template), summary, replaced, valuesFor);
    return;
  }
  const model = readTorchModel(await collectBytes(openSource(template)));
  checkSameLayout(model.summary, summary);
  const written = writeTorchArchive(model, (info, index) =>
    replaced.has(info.name) ? valuesFor(info, index) : undefined,
  );
  yield* bytesSource(written)();
}

/**
 * A PyTorch update rewritten onto the global model's archive: the global model's bytes with the update's float
 * tensors (integer buffers keep the global model's values), so no uploader's pickle or code is ever served. The
 * update must have the global model's layout.
 */
export function rewriteOntoGlobal(global: Uint8Array, update: Uint8Array): Uint8Array {
  const template = readTorchModel(global);
  const source = readTorchModel(update);
  checkSameLayout(source.summary, template.summary);
  return writeTorchArchive(template, (info, index) => {
    const entry = source.archive.manifest[index];
    return info.isFloat && entry !== undefined ? tensorBytes(source, entry) : undefined;
  });
}

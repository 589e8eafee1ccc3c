import { InferenceErrorCode } from '../error-reasons';
import { isAppError } from '../errors';
import { seededNormal } from '../seeded-random';
import { dropoutNodes, withDropoutTraining } from './dropout';
import { sampleSwagModels } from './swag';
import type { ModelVariant, SessionSpec } from './task';

/** A model a task cannot use as asked (moments that do not fit it, MC dropout without Dropout nodes, ...): a 400. */
export class InferenceModelError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceModelError';
  }
}

/** The MC dropout contract (docs/inference.md#uncertainty-methods), for a model that cannot do it. */
const HOW_TO_EXPORT_DROPOUT =
  'MC_DROPOUT needs Dropout nodes in the graph: export the initial model and every update in training mode, ' +
  'torch.onnx.export(model, args, f, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, ' +
  'dynamo=False) (models with BatchNorm cannot use this).';

/** The blobs a variant needs besides the model itself. */
export function variantDigests(variant: ModelVariant): string[] {
  return variant.kind === 'swag-sample' ? [variant.first, variant.second] : [];
}

/**
 * The model bytes of a session spec, from the blobs the API thread sent: the stored model, the model with its
 * Dropouts switched (unchanged when it has none, except that MC dropout then is refused), or one SWAG sample.
 * @throws InferenceModelError when the model cannot serve the variant.
 */
export async function buildVariant(spec: SessionSpec, blobs: ReadonlyMap<string, Uint8Array>): Promise<Uint8Array> {
  const base = blob(blobs, spec.digest);
  try {
    switch (spec.variant.kind) {
      case 'plain':
        return base;
      case 'dropout':
        if (dropoutNodes(base).length === 0) {
          if (spec.variant.training) {
            throw new InferenceModelError(
              InferenceErrorCode.NO_DROPOUT,
              `The model has no Dropout nodes. ${HOW_TO_EXPORT_DROPOUT}`,
            );
          }
          return base;
        }
        return withDropoutTraining(base, spec.variant.training);
      case 'swag-sample': {
        const samples = sampleSwagModels({
          model: base,
          firstMoment: blob(blobs, spec.variant.first),
          secondMoment: blob(blobs, spec.variant.second),
          samples: 1,
          normal: seededNormal(spec.variant.seed),
        });
        for await (const sample of samples) {
          return sample;
        }
        throw new Error('SWAG sampling drew no model.');
      }
    }
  } catch (err) {
    if (isAppError(err) && err.status === 400) {
      throw new InferenceModelError(InferenceErrorCode.INVALID_MODEL, err.message);
    }
    throw err;
  }
}

function blob(blobs: ReadonlyMap<string, Uint8Array>, digest: string): Uint8Array {
  const bytes = blobs.get(digest);
  if (!bytes) {
    throw new Error(`Blob ${digest} was not sent to the inference worker.`);
  }
  return bytes;
}

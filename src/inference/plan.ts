import { invalidInput } from '../errors';
import type { InferenceTask, SessionSpec } from './task';

/** The uncertainty methods, as trainings and requests spell them. */
export const UNCERTAINTY_METHODS = ['NONE', 'ENSEMBLE', 'MC_DROPOUT', 'SWAG'] as const;
export type UncertaintyMethod = (typeof UNCERTAINTY_METHODS)[number];

/** `options.uncertainty.N` when neither the training nor the request sets it (the reference's default). */
export const DEFAULT_SAMPLES = 10;
/** The most samples one request may ask for: each is a forward pass (and for SWAG a session). */
export const MAX_SAMPLES = 100;

/** What inference needs to know about the model it runs, resolved from the database. */
export interface InferenceTarget {
  readonly modelId: string;
  readonly type: string;
  /** The weights blob of the model's latest version; undefined for a MEAN model (it has none). */
  readonly weightsDigest: string | undefined;
  /** A MEAN model's members' weights blobs, in its order. */
  readonly memberDigests: readonly string[];
  readonly preprocessingDigest: string | null;
  readonly swagMoments: { readonly first: string; readonly second: string } | undefined;
}

/** The method and its settings, after the training's and the request's were reconciled. */
export interface UncertaintySettings {
  readonly method: UncertaintyMethod;
  readonly samples: number;
  readonly softmax: boolean;
}

/**
 * The pool task for one inference (docs/inference.md#the-session-pool): NONE runs the model once with its Dropout off; MC_DROPOUT
 * runs it N times with Dropout on; ENSEMBLE runs each member of a MEAN model once; SWAG runs N models sampled from
 * the moments (seeds 0..N−1, so repeated requests reuse the sampled sessions). A MEAN model under NONE runs its
 * members too (its output is their mean). The input is the caller's to add, once the method is known to fit.
 * @throws 400 when the model cannot serve the method.
 */
export function planInference(
  target: InferenceTarget,
  settings: UncertaintySettings,
): Omit<InferenceTask, 'input' | 'inputShape'> {
  const deterministic = (digest: string): SessionSpec => ({
    key: `${digest}:dropout-off`,
    digest,
    variant: { kind: 'dropout', training: false },
  });
  const preprocess: SessionSpec | undefined = target.preprocessingDigest
    ? { key: `${target.preprocessingDigest}:plain`, digest: target.preprocessingDigest, variant: { kind: 'plain' } }
    : undefined;
  const base = { ...(preprocess ? { preprocess } : {}), softmax: settings.softmax };
  if (target.type === 'MEAN' || settings.method === 'ENSEMBLE') {
    if (target.type !== 'MEAN') {
      throw invalidInput(
        `ENSEMBLE needs a MEAN model (POST /api/models/ with type MEAN and its members); model ${target.modelId} is ${target.type}.`,
        { reason: 'inference_method_unavailable' },
      );
    }
    if (settings.method !== 'ENSEMBLE' && settings.method !== 'NONE') {
      throw invalidInput(
        `Model ${target.modelId} is a MEAN model: its uncertainty method is ENSEMBLE, not ${settings.method}.`,
        {
          reason: 'inference_method_unavailable',
        },
      );
    }
    return { ...base, sessions: target.memberDigests.map(deterministic), passes: 1 };
  }
  const weights = target.weightsDigest;
  if (weights === undefined) {
    throw invalidInput(`Model ${target.modelId} has no weights to run.`, { reason: 'inference_method_unavailable' });
  }
  switch (settings.method) {
    case 'NONE':
      return { ...base, sessions: [deterministic(weights)], passes: 1 };
    case 'MC_DROPOUT':
      return {
        ...base,
        sessions: [{ key: `${weights}:dropout-on`, digest: weights, variant: { kind: 'dropout', training: true } }],
        passes: settings.samples,
      };
    case 'SWAG': {
      const moments = target.swagMoments;
      if (!moments) {
        throw invalidInput(
          `Model ${target.modelId} has no SWAG moments: they are stored when its training's SWAG round ends.`,
          { reason: 'inference_method_unavailable' },
        );
      }
      const sessions = Array.from({ length: settings.samples }, (_, seed) => ({
        key: `${weights}:swag:${moments.first}:${moments.second}:${seed}`,
        digest: weights,
        variant: { kind: 'swag-sample' as const, first: moments.first, second: moments.second, seed },
      }));
      return { ...base, sessions, passes: 1 };
    }
  }
}

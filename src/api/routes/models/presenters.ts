import type { Metric } from '../../../db/models/metric';
import type { FlModel } from '../../../db/models/model';
import type { ModelVersion } from '../../../db/models/model-version';
import { servedMetricType } from '../../use-cases/metric-media';
import type { ModelResponse } from './schemas';
import type { MetricResponse } from './upload-schemas';

/**
 * A model in the reference's fields for its kind. `preprocessing` and a SWAG model's `swag_first_moment` and
 * `swag_second_moment` are download paths instead of the reference's base64 copies (a payload bloat there), null
 * until the file exists.
 */
export function presentModel(model: FlModel, memberIds: readonly string[] = []): ModelResponse {
  if (model.type === 'LOCAL') {
    return {
      id: model.id,
      type: model.type,
      round: model.round,
      sample_size: model.sampleSize ?? 0,
      owner: model.ownerId,
      base_model: model.baseModelId ?? undefined,
      format: model.format,
    };
  }
  return {
    id: model.id,
    type: model.type,
    round: model.round,
    name: model.name,
    description: model.description,
    input_shape: model.inputShape,
    preprocessing: model.preprocessingDigest ? `/api/models/${model.id}/preprocessing/` : null,
    owner: model.ownerId,
    has_preprocessing: model.preprocessingDigest !== null,
    // A MEAN model has no weights of its own: its members', and no format.
    ...(model.type === 'MEAN'
      ? { models: [...(model.members?.map((m) => m.id) ?? memberIds)] }
      : { format: model.format }),
    ...(model.type === 'SWAG' ? swagMoments(model) : {}),
  };
}

function swagMoments(model: FlModel): { swag_first_moment: string | null; swag_second_moment: string | null } {
  const stored = model.swagFirstMomentDigest !== null;
  return {
    swag_first_moment: stored ? `/api/models/${model.id}/swag/?moment=first` : null,
    swag_second_moment: stored ? `/api/models/${model.id}/swag/?moment=second` : null,
  };
}

/** One stored round of a model. */
export function presentVersion(version: ModelVersion): {
  round: number;
  digest: string;
  size: number;
  created_at: string;
} {
  return {
    round: version.round,
    digest: version.weightsDigest,
    size: Number(version.weightsSize),
    created_at: version.createdAt.toISOString(),
  };
}

/**
 * A metric in the reference's fields (a binary value in base64), with the type a binary value is served as and `url`,
 * the path that serves it byte for byte (null for a float).
 */
export function presentMetric(metric: Metric): MetricResponse {
  const bytes = metric.valueBinary;
  return {
    id: Number(metric.id),
    identifier: metric.identifier,
    key: metric.key,
    value_float: metric.valueFloat,
    value_binary: bytes ? bytes.toString('base64') : null,
    content_type: bytes ? servedMetricType(metric.contentType, bytes) : null,
    url: bytes && metric.modelId ? `/api/models/${metric.modelId}/metrics/${metric.id}/` : null,
    step: metric.step,
    model: metric.modelId,
    reporter: metric.reporterId,
  };
}

import { z } from 'zod';
import { documentAs, jsonSchemaOf } from '../../openapi/documented';
import { formInteger, INT32_MAX, repeated } from '../common-schemas';

const required = (field: string, what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `Missing required field: ${field}` : `${field} must be ${what}.`;

/** A round number from a form field or JSON. */
const round = documentAs(
  z
    .union([z.number(), z.string()], { error: required('round', 'a non-negative integer') })
    .pipe(formInteger)
    .pipe(z.number().int().min(0, 'round must be a non-negative integer.').max(INT32_MAX)),
  {
    type: 'integer',
    minimum: 0,
    maximum: INT32_MAX,
    description: "The training's current round, as the round start named it.",
  },
);

/** A sample size: a positive integer. */
const sampleSize = documentAs(
  z
    .union([z.number(), z.string()], { error: required('sample_size', 'a positive integer') })
    .pipe(formInteger)
    .pipe(z.number().int().min(1, 'sample_size must be a positive integer.').max(INT32_MAX)),
  { type: 'integer', minimum: 1, maximum: INT32_MAX, description: 'How many samples the update was trained on.' },
);

/**
 * A metric value: a number (or a numeric string), any other string (stored as text), or base64 bytes. A binary
 * value's type is sniffed from its bytes; `content_type` is taken for the reference's clients and otherwise ignored.
 */
const metricValue = z.union([
  z.number(),
  z.string(),
  z.strictObject({ base64: z.base64(), content_type: z.string().min(1).max(255).optional() }),
]);

/** `metric_names` / `metric_values`: repeated form fields or JSON arrays. */
export const metricFields = {
  metric_names: repeated(z.string().min(1).max(64)).optional(),
  metric_values: repeated(metricValue).optional(),
};

/** `POST /api/models/{id}/metrics/`: both lists are required (checked with the reference's message by the use case). */
export const metricsBody = documentAs(z.strictObject(metricFields), () => ({
  ...jsonSchemaOf(z.strictObject(metricFields)),
  required: ['metric_names', 'metric_values'],
}));

/** `POST /api/models/{id}/` (a local update); `owner` is sent by the reference client and ignored. */
export const updateBody = z.strictObject({
  round,
  sample_size: sampleSize,
  owner: z.string().optional(),
  ...metricFields,
});
export type UpdateRequest = z.output<typeof updateBody>;

/** `POST /api/models/{id}/swag/`. */
export const swagBody = z.strictObject({ round, sample_size: sampleSize, owner: z.string().optional() });
export type SwagRequest = z.output<typeof swagBody>;

/**
 * A metric as the reference's serializer writes it (binary values base64), with the type a binary value is served as
 * and the path that serves it.
 */
export const metricResponse = z.object({
  id: z.number().int(),
  identifier: z.string().nullable(),
  key: z.string(),
  value_float: z.number().nullable(),
  value_binary: z.string().nullable(),
  content_type: z.string().nullable(),
  url: z.string().nullable(),
  step: z.number().int().nullable(),
  model: z.uuid().nullable(),
  reporter: z.uuid().nullable(),
});
export type MetricResponse = z.infer<typeof metricResponse>;

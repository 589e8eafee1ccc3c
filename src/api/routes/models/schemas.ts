import { z } from 'zod';
import { documentAs } from '../../openapi/documented';
import { formInteger, INT32_MAX, repeated, uuidParams } from '../common-schemas';

const missing = (field: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `Missing required field: ${field}` : `Invalid type for field: ${field}`;

/** What a refused `input_shape` is told. */
export const INPUT_SHAPE_FORM =
  'Must give each dimension as a whole number, or None for a free one such as the batch: one form field per ' +
  'dimension (input_shape=None, input_shape=1, ...) or a JSON list ([null, 1, 28, 28]).';

/** One `input_shape` element: an integer, or `None`/`NULL`/null for a free (batch) dimension. */
const shapeDim = z.union([
  z.null(),
  z.number().int().min(0),
  z
    .string()
    .trim()
    .regex(/^(none|null|\d+)$/i, 'Must be an integer or None.')
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : null)),
]);

/** One documented `input_shape` dimension. */
const SHAPE_DIM = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'null' },
    { type: 'string', pattern: '^\\s*([Nn][Oo][Nn][Ee]|[Nn][Uu][Ll][Ll]|\\d+)\\s*$' },
  ],
};

/**
 * `input_shape`: repeated form fields or a JSON array; an empty list, or the bare string `None`/`null`, is no shape
 * at all, as in the reference.
 */
export const inputShape = documentAs(
  z.union(
    [
      z
        .string()
        .trim()
        .regex(/^(none|null)$/i)
        .transform(() => null),
      repeated(shapeDim).transform((dims) => (dims.length === 0 ? null : dims)),
    ],
    // Neither form fitted: say what does, rather than the union's bare "Invalid value."
    { error: INPUT_SHAPE_FORM },
  ),
  {
    description:
      "The model input's shape, one form field per dimension; `None` (or null) for a free one such as the batch.",
    anyOf: [{ type: 'array', items: SHAPE_DIM }, SHAPE_DIM],
  },
);

/** Model types; anything else becomes GLOBAL, case-insensitively, as in the reference. */
const modelType = z
  .string()
  .optional()
  .transform((value): 'GLOBAL' | 'SWAG' | 'MEAN' => {
    const upper = (value ?? '').toUpperCase();
    return upper === 'SWAG' || upper === 'MEAN' ? upper : 'GLOBAL';
  });

/** `POST /api/models/`: the form fields (or JSON, for MEAN models); unknown fields are refused. */
export const createModelBody = z.strictObject({
  name: z.string({ error: missing('name') }).max(256),
  description: z.string({ error: missing('description') }),
  type: modelType,
  round: documentAs(formInteger.pipe(z.number().int().min(0).max(INT32_MAX)), {
    type: 'integer',
    minimum: 0,
    maximum: INT32_MAX,
  }).default(0),
  input_shape: inputShape.optional(),
  models: z.array(z.string(), { error: missing('models') }).optional(),
});
export type CreateModelRequest = z.output<typeof createModelBody>;

/** `POST /api/models/` as JSON, for the document: a MEAN model of global models the caller owns (no file). */
export const meanModelBody = z.strictObject({
  name: z.string().max(256),
  description: z.string(),
  type: z.enum(['MEAN']),
  round: z.number().int().min(0).max(INT32_MAX).optional(),
  input_shape: inputShape.optional(),
  models: z.array(z.guid()).min(1),
});

/** Model path ids. */
export const modelParams = uuidParams('Model');

/** A metric's path: its model's id and its own (an integer); a malformed one is a 400 in the reference's words. */
export const metricParams = modelParams.extend({
  metric_id: z.string().regex(/^\d{1,18}$/, { error: (issue) => `Metric ${String(issue.input)} not found.` }),
});

/** `GET /api/models/{id}/?round=N`. */
export const downloadQuery = z.object({
  round: z
    .string()
    .regex(/^\d{1,9}$/, 'Must be a non-negative integer.')
    .transform(Number)
    .optional(),
});

/** `GET /api/models/{id}/swag/?moment=first|second`: which of the two SWAG moments to download. */
export const swagMomentQuery = z.object({
  moment: z.enum(['first', 'second'], { error: 'moment must be first or second.' }),
});

/** A model as the reference's serializers write it (the fields of its kind; never the weights). */
export const modelResponse = z.object({
  id: z.uuid(),
  type: z.enum(['GLOBAL', 'LOCAL', 'SWAG', 'MEAN']),
  round: z.number().int(),
  owner: z.uuid(),
  name: z.string().optional(),
  description: z.string().optional(),
  input_shape: z.array(z.number().int().nullable()).nullable().optional(),
  preprocessing: z.string().nullable().optional(),
  has_preprocessing: z.boolean().optional(),
  models: z.array(z.uuid()).optional(),
  sample_size: z.number().int().optional(),
  base_model: z.uuid().optional(),
  swag_first_moment: z.string().nullable().optional(),
  swag_second_moment: z.string().nullable().optional(),
  /** What the weights are (a Roundhouse field): inference and server evaluation run `onnx` models only. */
  format: z.enum(['onnx', 'torchscript', 'torch_state_dict']).optional(),
});
export type ModelResponse = z.infer<typeof modelResponse>;

const valueInfo = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.union([z.number().int(), z.string(), z.null()])),
});

/** ONNX statistics of a model's graph and weights. */
export const modelStats = z.object({
  inputs: z.array(valueInfo),
  outputs: z.array(valueInfo),
  input_size: z.array(z.array(z.number().int())).nullable(),
  total_params: z.number().int(),
  trainable_params: z.number().int(),
  total_param_bytes: z.number().int(),
  summary_list: z.array(
    z.object({
      name: z.string(),
      dtype: z.string(),
      shape: z.array(z.number().int()),
      num_params: z.number().int(),
      param_bytes: z.number().int(),
      trainable: z.boolean(),
    }),
  ),
});
export type ModelStats = z.infer<typeof modelStats>;

/** `GET /api/models/{id}/metadata/`. */
export const modelMetadataResponse = modelResponse.extend({ stats: modelStats.nullable() });

/** `GET /api/models/{id}/rounds/`: every stored round of a model. */
export const modelRoundsResponse = z.array(
  z.object({ round: z.number().int(), digest: z.string(), size: z.number().int(), created_at: z.string() }),
);

/** `{"detail": "Model Upload Accepted", "model_id"}`. */
export const modelCreatedResponse = z.object({ detail: z.string(), model_id: z.uuid() });

import { z } from 'zod';
import { writeSafetensors, type Float32Tensor } from '../../../aggregation/safetensors';
import { INFERENCE_RESPONSE_FORMAT } from '../../../inference/summarize';
import type { FloatTensor } from '../../../inference/tensor';
import { changesNothingCached } from '../../cache/see-own-changes';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { type InferenceAnswer, runInference } from '../../use-cases/run-inference';
import { MAX_SAMPLES, UNCERTAINTY_METHODS } from '../../../inference/plan';
import { documentAs, jsonSchemaOf } from '../../openapi/documented';
import { errorSchema } from '../common-schemas';
import { nestedList } from '../nested-list';

/**
 * What the request's fields mean, for the document: the use case checks them itself, with the reference's messages
 * and form values (a JSON `options` or a `"16,784"` shape) that a schema of the wire would not describe.
 */
const inferenceFields = z.strictObject({
  model_id: z.guid().describe('The model to run (a global, SWAG, MEAN or local model).'),
  return_format: z
    .enum(['json', 'binary'])
    .optional()
    .describe('`json` (default for JSON requests) or `binary` (safetensors; default for multipart).'),
  model_input: z
    .union([z.array(z.unknown()).min(1), z.string().min(1)])
    .describe(
      'Nested lists of numbers; base64 of little-endian float32 (with `shape`); or, as a file part, an .npy or ' +
        'safetensors tensor or a PNG/JPEG image (for models with an image preprocessing graph).',
    ),
  shape: z
    .union([z.array(z.number().int().min(0)), z.string()])
    .optional()
    .describe('The dimensions of a base64 float32 `model_input` (a list, or `"16,784"` in a form).'),
  uncertainty_method: z
    .enum(UNCERTAINTY_METHODS)
    .optional()
    .describe('For a model whose training names no uncertainty method (or the same one).'),
  options: z
    .strictObject({
      uncertainty: z
        .strictObject({ N: z.number().int().min(1).max(MAX_SAMPLES).optional(), softmax: z.boolean().optional() })
        .optional(),
    })
    .optional()
    .describe('With uncertainty_method: `{"uncertainty": {"N": 10, "softmax": false}}`.'),
});

/** The request: JSON, or multipart with `model_input` as a field or a file part. Checked by the use case. */
const inferenceBody = documentAs(
  z.strictObject({
    model_id: z.unknown().optional(),
    return_format: z.unknown().optional(),
    model_input: z.unknown().optional(),
    shape: z.unknown().optional(),
    uncertainty_method: z.unknown().optional(),
    options: z.unknown().optional(),
  }),
  () => jsonSchemaOf(inferenceFields),
);

const inferenceResponse = z.object({
  inference: z.unknown(),
  outputs: z.unknown(),
  uncertainty: z.record(z.string(), z.unknown()),
});

/** `POST /api/inference/`: inference with uncertainty, run in the inference pool. */
export function inferenceRoutes(rc: RouteContext, services: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/inference',
      tag: 'inference',
      summary: "Runs a model on an input, with its training's uncertainty method.",
      description:
        'JSON answers `{inference, outputs, uncertainty}`: `inference` is the class index per row for NONE on a ' +
        '2-D output, otherwise the mean output over the samples; `outputs` the raw output (or that mean); ' +
        '`uncertainty` variance and std, plus predictive_entropy, expected_entropy and mutual_info when the ' +
        `outputs are probabilities. Binary answers a safetensors file (\`${INFERENCE_RESPONSE_FORMAT}\`) with the ` +
        'same tensors (`inference`, `outputs`, `uncertainty.<name>`).',
      body: inferenceBody,
      bodyKind: 'upload',
      keepAsText: ['model_input'],
      accepts: ['json', 'multipart'],
      files: [
        {
          name: 'model_input',
          description: 'The input: an .npy, safetensors, PNG or JPEG file, or a field as in JSON.',
          required: true,
        },
      ],
      jsonBody: inferenceBody,
      responses: [
        { status: 200, description: 'The inference (JSON, or safetensors for binary).', schema: inferenceResponse },
        {
          status: 400,
          description: 'A missing or invalid field or input, or a method the model cannot serve.',
          schema: errorSchema,
        },
        { status: 403, description: "Another participant's update.", schema: errorSchema },
        { status: 415, description: 'Neither JSON nor multipart.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body, files }) => {
      changesNothingCached(ctx);
      const answer = await runInference(services, user, body, files, ctx.is('multipart') === 'multipart');
      if (answer.format === 'binary') {
        ctx.type = 'application/octet-stream';
        ctx.set('Content-Disposition', 'filename="inference.safetensors"');
        ctx.body = Buffer.from(binaryAnswer(answer));
        return;
      }
      ctx.body = {
        inference: nested(answer.inference),
        outputs: nested(answer.outputs),
        uncertainty: Object.fromEntries(Object.entries(answer.uncertainty).map(([name, t]) => [name, nested(t)])),
      };
    },
  );
}

/** A tensor as nested lists (values JSON cannot hold become null). */
function nested(tensor: FloatTensor): unknown {
  return nestedList(tensor.dims, tensor.data);
}

function binaryAnswer(answer: InferenceAnswer): Uint8Array {
  const tensors = new Map<string, Float32Tensor>([
    ['inference', { shape: answer.inference.dims, values: answer.inference.data }],
    ['outputs', { shape: answer.outputs.dims, values: answer.outputs.data }],
    ...Object.entries(answer.uncertainty).map(([name, t]): [string, Float32Tensor] => [
      `uncertainty.${name}`,
      { shape: t.dims, values: t.data },
    ]),
  ]);
  return writeSafetensors(tensors, {
    format: INFERENCE_RESPONSE_FORMAT,
    output: answer.outputName,
    uncertainty_method: answer.method,
  });
}

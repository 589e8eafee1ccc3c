import { requestLogger } from '../../middleware/access-log';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { readableModel } from '../../use-cases/model-access';
import { uploadSwag } from '../../use-cases/upload-swag';
import { notFound } from '../../../errors';
import { uploadUpdate } from '../../use-cases/upload-update';
import { detailSchema, errorSchema } from '../common-schemas';
import { MODEL_FORBIDDEN, MODEL_MISSING, MODELS_TAG } from './routes';
import { modelParams, swagMomentQuery } from './schemas';
import { swagBody, updateBody } from './upload-schemas';

const uploadErrors = [
  {
    status: 400,
    description: 'A missing field, a wrong round or state, or a file that does not match.',
    schema: errorSchema,
  },
  { status: 403, description: 'The caller is not a participant of the training.', schema: errorSchema },
  { status: 404, description: 'No such global model, or it has no training.', schema: errorSchema },
  { status: 409, description: 'This client already filled the slot with different content.', schema: errorSchema },
  { status: 413, description: 'A file beyond the upload limit.', schema: errorSchema },
];

/**
 * `POST /api/models/{id}/` and `/swag/`: a participant's upload for the current round fills its slot; an exact retry
 * answers the same.
 */
export function modelUploadRoutes(rc: RouteContext, services: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models/:id',
      tag: MODELS_TAG,
      summary:
        "Uploads a participant's local update (the global model's format, graph or tensor layout, and manifest) for the current round.",
      params: modelParams,
      body: updateBody,
      bodyKind: 'upload',
      files: [{ name: 'model_file', description: "The updated model, in the global model's format.", required: true }],
      responses: [{ status: 201, description: 'Accepted.', schema: detailSchema }, ...uploadErrors],
    },
    async (ctx, { user, params, body, files }) => {
      const deps = { ...services, logger: requestLogger(ctx, services.logger), maxMetricBytes: rc.limits.metricBytes };
      await uploadUpdate(deps, user, params.id, body, files);
      ctx.status = 201;
      ctx.body = { detail: 'Model Update Accepted' };
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models/:id/swag',
      tag: MODELS_TAG,
      summary:
        "Uploads a participant's SWAG moments (safetensors keyed by initializer name, float32) in the SWAG round.",
      params: modelParams,
      body: swagBody,
      bodyKind: 'upload',
      files: [
        { name: 'first_moment_file', description: 'Mean of the weights (safetensors).', required: true },
        { name: 'second_moment_file', description: 'Mean of the squared weights (safetensors).', required: true },
      ],
      responses: [{ status: 201, description: 'Accepted.', schema: detailSchema }, ...uploadErrors],
    },
    async (ctx, { user, params, body, files }) => {
      await uploadSwag({ ...services, logger: requestLogger(ctx, services.logger) }, user, params.id, body, files);
      ctx.status = 201;
      ctx.body = { detail: 'SWAG Statistic Accepted' };
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/swag',
      tag: MODELS_TAG,
      summary: "Downloads a SWAG model's first or second moment (beyond the reference, which cannot serve them).",
      description:
        'A safetensors file with one float32 tensor per float initializer of the model, keyed by its name and in ' +
        "the model's shape: the sample-size-weighted mean over the SWAG round's clients of their moment. Its " +
        '`__metadata__` holds `format` (`roundhouse.swag-moment.v1`), `moment`, `round` and `clients`.',
      params: modelParams,
      query: swagMomentQuery,
      responses: [
        { status: 200, description: 'The moment (safetensors).', binary: true },
        { status: 400, description: 'No or a wrong `moment`.', schema: errorSchema },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params, query }) => {
      const { model } = await readableModel(services.knex, user, params.id);
      const digest = query.moment === 'first' ? model.swagFirstMomentDigest : model.swagSecondMomentDigest;
      if (digest === null) {
        throw notFound(`Model ${model.id} has no SWAG moments.`);
      }
      ctx.set('Content-Disposition', `filename="model-${model.id}-swag-${query.moment}-moment.safetensors"`);
      ctx.type = 'application/octet-stream';
      ctx.body = await services.blobs.read(digest);
    },
  );
}

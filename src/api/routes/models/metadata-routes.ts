import { findModelById, findVersion, listMemberIds, listVersions } from '../../../db/queries/models';
import { notFound } from '../../../errors';
import { requestLogger } from '../../middleware/access-log';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { replacePreprocessing } from '../../use-cases/model-commands';
import { readableModel } from '../../use-cases/model-access';
import { storedModelStats } from '../../use-cases/model-stats';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentModel, presentVersion } from './presenters';
import { MODEL_FORBIDDEN, MODEL_MISSING, MODELS_TAG } from './routes';
import { modelMetadataResponse, modelParams, modelRoundsResponse } from './schemas';

/**
 * `/api/models/{id}/metadata/`, `/preprocessing/` and `/rounds/`: what a model is, its versions and its preprocessing
 * graph.
 */
export function modelMetadataRoutes(rc: RouteContext, { knex, blobs, logger }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/metadata',
      tag: MODELS_TAG,
      summary: 'The model with statistics of its weights: graph inputs and outputs (ONNX), and parameters per tensor.',
      params: modelParams,
      responses: [
        { status: 200, description: 'The model.', schema: modelMetadataResponse },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      const { model } = await readableModel(knex, user, params.id);
      const version = await findVersion(knex, model.id);
      let stats = null;
      if (version) {
        try {
          stats = await storedModelStats(blobs, version.weightsDigest, model.inputShape);
        } catch (err) {
          requestLogger(ctx, logger).warn('model statistics failed', { modelId: model.id, error: err });
        }
      }
      const members = model.type === 'MEAN' ? await listMemberIds(knex, model.id) : [];
      ctx.body = { ...presentModel(model, members), stats };
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/rounds',
      tag: MODELS_TAG,
      summary: "Every stored round of a model's weights, oldest first; download one with `?round=N`.",
      params: modelParams,
      responses: [
        { status: 200, description: 'The rounds.', schema: modelRoundsResponse },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      const { model } = await readableModel(knex, user, params.id);
      ctx.body = (await listVersions(knex, model.id)).map(presentVersion);
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/preprocessing',
      tag: MODELS_TAG,
      summary: "Downloads the ONNX preprocessing graph of a model (an update's: its global model's).",
      params: modelParams,
      responses: [
        { status: 200, description: 'The preprocessing graph.', binary: true },
        MODEL_FORBIDDEN,
        { status: 404, description: 'No such model, or it has no preprocessing.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      const { model } = await readableModel(knex, user, params.id);
      const global = model.baseModelId ? await findModelById(knex, model.baseModelId) : model;
      if (!global?.preprocessingDigest) {
        throw notFound(`Model '${params.id}' has no preprocessing model defined.`);
      }
      ctx.set('Content-Disposition', `filename="model-${params.id}-proprecessing.pt"`);
      ctx.type = 'application/octet-stream';
      ctx.body = await blobs.read(global.preprocessingDigest);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models/:id/preprocessing',
      tag: MODELS_TAG,
      summary: "Sets a global model's ONNX preprocessing graph (its owner only).",
      params: modelParams,
      bodyKind: 'upload',
      files: [{ name: 'model_preprocessing_file', description: 'The ONNX preprocessing graph.', required: true }],
      responses: [
        { status: 202, description: 'Stored.', schema: detailSchema },
        { status: 400, description: 'No file, or an invalid one.', schema: errorSchema },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params, files }) => {
      await replacePreprocessing(knex, blobs, user, params.id, files);
      ctx.status = 202;
      ctx.body = { detail: 'Proprocessing Model Upload Accepted' };
    },
  );
}

import type { Context } from 'koa';
import { z } from 'zod';
import { listModelsOfUser } from '../../../db/queries/models';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { createModel } from '../../use-cases/create-model';
import { downloadModel, type ModelDownload } from '../../use-cases/model-download';
import { removeModel } from '../../use-cases/model-commands';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentModel } from './presenters';
import {
  createModelBody,
  meanModelBody,
  downloadQuery,
  modelCreatedResponse,
  modelParams,
  modelResponse,
} from './schemas';

/** The OpenAPI tag of every model route. */
export const MODELS_TAG = 'models';
/** Answers of a model route whose model is missing or hidden. */
export const MODEL_MISSING = {
  status: 404,
  description: 'No such model, or the caller has no relation to it.',
  schema: errorSchema,
};
/** Answers of a model route the caller may not use. */
export const MODEL_FORBIDDEN = {
  status: 403,
  description: 'Related to the model, but not allowed.',
  schema: errorSchema,
};

/** Answers a model download as an attachment of octet-stream bytes. */
export function sendModel(ctx: Context, download: ModelDownload): void {
  ctx.set('Content-Disposition', `filename="model-${download.modelId}.pt"`);
  ctx.type = 'application/octet-stream';
  ctx.body = download.body;
  ctx.length = download.length;
}

/** `GET`/`POST /api/models/`, `GET`/`DELETE /api/models/{id}/`: list, upload, download and delete models. */
export function modelRoutes(rc: RouteContext, { knex, blobs, orchestrator, inferenceModels }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models',
      tag: MODELS_TAG,
      summary: 'Models the caller owns, and the global models of trainings they act in or take part in.',
      responses: [{ status: 200, description: 'The models.', schema: z.array(modelResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await listModelsOfUser(knex, user.id)).map((model) => presentModel(model));
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models',
      tag: MODELS_TAG,
      summary:
        'Uploads a global (or SWAG) model, ONNX or a PyTorch archive, or creates a MEAN model of owned models (JSON).',
      description:
        '`input_shape` repeats per dimension, `None` for a free one. The file is checked before it is stored.',
      body: createModelBody,
      bodyKind: 'upload',
      files: [
        {
          name: 'model_file',
          description: 'The model: ONNX, or a PyTorch archive (torch.jit.save, or torch.save of a state_dict).',
          required: true,
        },
        { name: 'model_preprocessing_file', description: 'An ONNX preprocessing graph.', required: false },
      ],
      jsonBody: meanModelBody,
      responses: [
        { status: 201, description: 'Stored.', schema: modelCreatedResponse },
        { status: 400, description: 'A missing field or an invalid file.', schema: errorSchema },
        { status: 413, description: 'A file beyond the upload limit.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body, files }) => {
      const model = await createModel(knex, blobs, user, body, files);
      ctx.status = 201;
      ctx.body = { detail: 'Model Upload Accepted', model_id: model.id };
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id',
      tag: MODELS_TAG,
      summary: "Downloads a model's bytes (ONNX or its PyTorch archive): the latest round, or `?round=N`.",
      params: modelParams,
      query: downloadQuery,
      responses: [{ status: 200, description: 'The model bytes.', binary: true }, MODEL_FORBIDDEN, MODEL_MISSING],
    },
    async (ctx, { user, params, query }) => {
      sendModel(ctx, await downloadModel({ knex, blobs, inferenceModels }, user, params.id, query.round));
    },
  );
  authedRoute(
    rc,
    {
      method: 'delete',
      path: '/models/:id',
      tag: MODELS_TAG,
      summary: "Deletes a model (its owner or its training's actor); a global model takes its training along.",
      params: modelParams,
      responses: [
        { status: 200, description: 'Removed.', schema: detailSchema },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
        { status: 409, description: 'The model is a member of a MEAN model.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      await removeModel(knex, orchestrator, user, params.id);
      ctx.body = { detail: 'Model removed!' };
    },
  );
}

import { z } from 'zod';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { visibleDataset, visibleDatasets } from '../../use-cases/dataset-access';
import { createDataset, removeDataset } from '../../use-cases/dataset-commands';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentDataset } from './presenters';
import { createDatasetBody, datasetParams, datasetResponse } from './schemas';

/** The OpenAPI tag of every dataset route. */
export const DATASETS_TAG = 'datasets';
/** Answers of a dataset route whose dataset is missing or hidden. */
export const DATASET_MISSING = {
  status: 404,
  description: 'No such dataset, or the caller neither owns it nor takes part in a training naming it.',
  schema: errorSchema,
};

/**
 * `/api/datasets/` and `/api/datasets/{id}/`: anyone uploads datasets and owns them; the actor and participants of a
 * training that names one see its metadata; only the owner deletes it.
 */
export function datasetRoutes(rc: RouteContext, { knex, blobs }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/datasets',
      tag: DATASETS_TAG,
      summary: "The caller's datasets, and those of the trainings it acts in or takes part in (metadata only).",
      responses: [{ status: 200, description: 'The datasets.', schema: z.array(datasetResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await visibleDatasets(knex, user)).map(presentDataset);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/datasets',
      tag: DATASETS_TAG,
      summary: 'Uploads a dataset: a safetensors file with tensors `x` and `y`, or `x` and `y` as two .npy files.',
      description:
        '`x` and `y` must have the same number of rows (first dimension, at least 1), finite values and a dtype of ' +
        'float16, float32, float64, uint8, int8, int16, int32 or int64; `y` has 1 or 2 dimensions. Everything is ' +
        'checked before anything is stored. The files together may hold at most `ROUNDHOUSE_MAX_DATASET_BYTES`.',
      body: createDatasetBody,
      bodyKind: 'upload',
      uploadBytes: (limits) => limits.datasetBytes,
      accepts: ['multipart'],
      files: [
        { name: 'file', description: 'A safetensors file with exactly the tensors `x` and `y`.', required: false },
        { name: 'x', description: 'The inputs as a .npy file (with `y`, instead of `file`).', required: false },
        { name: 'y', description: 'The targets as a .npy file (with `x`, instead of `file`).', required: false },
      ],
      responses: [
        { status: 201, description: 'Stored.', schema: datasetResponse },
        { status: 400, description: 'A missing field, or files that are not a valid dataset.', schema: errorSchema },
        { status: 413, description: 'Files beyond the dataset limit.', schema: errorSchema },
        { status: 415, description: 'Not multipart.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body, files }) => {
      const deps = { knex, blobs, maxBytes: rc.limits.datasetBytes };
      ctx.status = 201;
      ctx.body = presentDataset(await createDataset(deps, user, body, files));
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/datasets/:id',
      tag: DATASETS_TAG,
      summary: "A dataset's metadata: its owner, and the actor and participants of a training naming it.",
      params: datasetParams,
      responses: [{ status: 200, description: 'The dataset.', schema: datasetResponse }, DATASET_MISSING],
    },
    async (ctx, { user, params }) => {
      ctx.body = presentDataset((await visibleDataset(knex, user, params.id)).dataset);
    },
  );
  authedRoute(
    rc,
    {
      method: 'delete',
      path: '/datasets/:id',
      tag: DATASETS_TAG,
      summary: 'Deletes a dataset (its owner), unless a training that has not finished names it.',
      params: datasetParams,
      responses: [
        { status: 200, description: 'Removed.', schema: detailSchema },
        { status: 403, description: 'The caller sees the dataset but does not own it.', schema: errorSchema },
        DATASET_MISSING,
        { status: 409, description: 'A training in state I, O or S names it.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      await removeDataset(knex, user, params.id);
      ctx.body = { detail: 'Dataset removed!' };
    },
  );
}

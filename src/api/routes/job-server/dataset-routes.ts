import { z } from 'zod';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { readableDataset, readableDatasets } from '../../use-cases/dataset-access';
import { MAX_POINTS_PER_PAGE, readPoints } from '../../use-cases/dataset-points';
import { errorSchema } from '../common-schemas';
import { presentPoints } from '../datasets/presenters';
import { pointResponse } from '../datasets/schemas';
import { presentDatasetsById } from './presenters';
import { datasetsByIdResponse, emptyBody, integerIdParams } from './schemas';
import { JOB_SERVER_TAG } from './tag';

/** `/actions/get_datasets.json/` and `get_dataset_points/<id>.json/`: the datasets whose rows the caller reads. */
export function jobServerDatasetRoutes(rc: RouteContext, { knex, blobs }: ApiServices): void {
  const common = { method: 'post', root: true, tag: JOB_SERVER_TAG, bodyKind: 'data', body: emptyBody } as const;
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_datasets.json/',
      summary: 'The datasets whose rows the caller may read, by id: its own, and shared ones of its trainings.',
      description:
        '`url` is where `get_dataset_points` reads them; `points` is how many rows it answers (at most ' +
        `${MAX_POINTS_PER_PAGE}, fewer for large rows) and \`cut\` says when that is fewer than \`rows\`: the rest ` +
        'is read page by page from `GET /api/datasets/{id}/points/`.',
      responses: [{ status: 200, description: 'The datasets.', schema: datasetsByIdResponse }],
    },
    async (ctx, { user }) => {
      ctx.body = presentDatasetsById(await readableDatasets(knex, user));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_dataset_points/:id.json/',
      summary: "A dataset's first rows as points `[{index, x, y}]`, as `GET /api/datasets/{id}/points/` reads them.",
      params: integerIdParams,
      responses: [
        { status: 200, description: 'The points.', schema: z.array(pointResponse) },
        { status: 400, description: 'Rows too large to list.', schema: errorSchema },
        { status: 403, description: 'A dataset its owner does not share.', schema: errorSchema },
        { status: 404, description: 'No such dataset, or one the caller may not see.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      const dataset = await readableDataset(knex, user, params.id);
      ctx.body = presentPoints(dataset.id, await readPoints(blobs, dataset, 0, MAX_POINTS_PER_PAGE)).points;
    },
  );
}

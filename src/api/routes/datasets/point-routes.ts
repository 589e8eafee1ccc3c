import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { readableDataset } from '../../use-cases/dataset-access';
import { MAX_POINT_VALUES, MAX_POINTS_PER_PAGE, readPoints } from '../../use-cases/dataset-points';
import { errorSchema } from '../common-schemas';
import { presentPoints } from './presenters';
import { DATASET_MISSING, DATASETS_TAG } from './routes';
import { datasetParams, pointsQuery, pointsResponse } from './schemas';

/** `GET /api/datasets/{id}/points/`: a dataset's rows, page by page, for its owner and those it is shared with. */
export function datasetPointRoutes(rc: RouteContext, { knex, blobs }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/datasets/:id/points',
      tag: DATASETS_TAG,
      summary: "A page of a dataset's rows as points `{index, x, y}`: its owner, or those it is shared with.",
      description:
        'Each point holds one row of `x` and of `y` as nested lists (a bare number for a row of one value), ' +
        `int64 values as JSON numbers (exact below 2^53). A page holds at most ${MAX_POINTS_PER_PAGE} rows and ` +
        `${MAX_POINT_VALUES} values; \`limit\` in the answer says how many rows it could hold, \`next\` is the path ` +
        'of the next page (null after the last); an offset past the last row answers no points.',
      params: datasetParams,
      query: pointsQuery,
      responses: [
        { status: 200, description: 'The page.', schema: pointsResponse },
        { status: 400, description: 'A bad offset or limit, or rows too large to list.', schema: errorSchema },
        {
          status: 403,
          description: 'The caller takes part in a training naming the dataset, but its owner does not share it.',
          schema: errorSchema,
        },
        DATASET_MISSING,
      ],
    },
    async (ctx, { user, params, query }) => {
      const dataset = await readableDataset(knex, user, params.id);
      ctx.body = presentPoints(dataset.id, await readPoints(blobs, dataset, query.offset, query.limit));
    },
  );
}

import type { Dataset } from '../../../db/models/dataset';
import type { PointsPage } from '../../use-cases/dataset-points';
import { nestedList } from '../nested-list';
import type { DatasetResponse, PointsResponse } from './schemas';

/** The path where a dataset's rows are read. */
export function pointsPath(id: number): string {
  return `/api/datasets/${id}/points/`;
}

/** A dataset's metadata. */
export function presentDataset(dataset: Dataset): DatasetResponse {
  return {
    id: dataset.id,
    name: dataset.name,
    description: dataset.description,
    rows: dataset.rows,
    x_dtype: dataset.xDtype,
    x_shape: dataset.xShape,
    y_dtype: dataset.yDtype,
    y_shape: dataset.yShape,
    share_with_participants: dataset.shareWithParticipants,
    url: pointsPath(dataset.id),
    owner: dataset.ownerId,
    created_at: dataset.createdAt.toISOString(),
  };
}

/** A page of rows as points `{index, x, y}`, with the path of the next page. */
export function presentPoints(id: number, page: PointsPage): PointsResponse {
  const end = page.offset + page.rows;
  const xSize = page.x.rowShape.reduce((a, b) => a * b, 1);
  const ySize = page.y.rowShape.reduce((a, b) => a * b, 1);
  return {
    count: page.count,
    offset: page.offset,
    limit: page.limit,
    next: end < page.count ? `${pointsPath(id)}?offset=${end}&limit=${page.limit}` : null,
    points: Array.from({ length: page.rows }, (_, i) => ({
      index: page.offset + i,
      x: nestedList(page.x.rowShape, page.x.values, i * xSize),
      y: nestedList(page.y.rowShape, page.y.values, i * ySize),
    })),
  };
}

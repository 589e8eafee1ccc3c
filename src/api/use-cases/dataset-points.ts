import type { Dataset } from '../../db/models/dataset';
import { type DatasetReader, openDataset } from '../../datasets/reader';
import { invalidInput } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';

/** The most rows one page of points holds, whatever `limit` asks. */
export const MAX_POINTS_PER_PAGE = 1000;

/** The most values (of `x` and `y` together) one page holds: fewer rows per page where rows are large. */
export const MAX_POINT_VALUES = 1 << 20;

/** One tensor's values on a page: the shape of a row and the rows' values, row-major. */
export interface PageValues {
  readonly rowShape: readonly number[];
  readonly values: Float64Array;
}

/** Rows [offset, offset + rows) of a dataset. */
export interface PointsPage {
  /** The dataset's rows. */
  readonly count: number;
  readonly offset: number;
  /** The most rows this page could hold: the asked limit, capped by MAX_POINTS_PER_PAGE and MAX_POINT_VALUES. */
  readonly limit: number;
  /** The rows on this page (none past the end). */
  readonly rows: number;
  readonly x: PageValues;
  readonly y: PageValues;
}

/**
 * Reads a page of a dataset's rows from its blob (only those rows' bytes).
 * @throws 400 when one row holds more values than a page may.
 */
export async function readPoints(
  blobs: BlobStore,
  dataset: Dataset,
  offset: number,
  askedLimit: number,
): Promise<PointsPage> {
  const reader = await openDataset(blobs, dataset.blobDigest);
  const rowValues = valuesPerRow(reader);
  if (rowValues > MAX_POINT_VALUES) {
    throw invalidInput(
      `A row of dataset ${dataset.id} holds ${rowValues} values, more than the ${MAX_POINT_VALUES} a page of points ` +
        'may hold: its rows cannot be read as points.',
    );
  }
  const limit = pageLimit(rowValues, askedLimit);
  const rows = Math.max(0, Math.min(limit, reader.rows - offset));
  const start = Math.min(offset, reader.rows);
  return {
    count: reader.rows,
    offset,
    limit,
    rows,
    x: { rowShape: reader.x.rowShape, values: await reader.readRows('x', start, rows) },
    y: { rowShape: reader.y.rowShape, values: await reader.readRows('y', start, rows) },
  };
}

/** The most rows a page holds when one row has `rowValues` values and `askedLimit` rows are asked for. */
export function pageLimit(rowValues: number, askedLimit: number): number {
  return Math.min(askedLimit, MAX_POINTS_PER_PAGE, Math.floor(MAX_POINT_VALUES / Math.max(rowValues, 1)));
}

/** The values one row of a dataset holds, of `x` and `y` together, from their stored shapes (rows first). */
export function rowValuesOf(dataset: Pick<Dataset, 'xShape' | 'yShape'>): number {
  return size(dataset.xShape.slice(1)) + size(dataset.yShape.slice(1));
}

function valuesPerRow(reader: DatasetReader): number {
  return size(reader.x.rowShape) + size(reader.y.rowShape);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

import { z } from 'zod';
import { boundedInteger, formBoolean } from '../common-schemas';
import { DATASET_DTYPES } from '../../../datasets/dtypes';
import { MAX_POINTS_PER_PAGE } from '../../use-cases/dataset-points';

/** `POST /api/datasets/`: the form fields beside the files. */
export const createDatasetBody = z.strictObject({
  name: z
    .string({ error: (issue) => (issue.input === undefined ? 'This field is required.' : undefined) })
    .max(256, 'Ensure this field has no more than 256 characters.')
    .trim()
    .min(1, 'This field may not be blank.'),
  description: z.string().default(''),
  share_with_participants: formBoolean.default(false),
});
export type CreateDatasetRequest = z.output<typeof createDatasetBody>;

/** Dataset ids are integers; a malformed one is a 400 with the not-found text. */
export const datasetParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,9}$/, { error: (issue) => `Dataset ${String(issue.input)} not found.` })
    .transform(Number),
});

/** `GET /api/datasets/{id}/points/`: the page. */
export const pointsQuery = z.object({
  offset: boundedInteger(0, 'The index of the first row.').default(0),
  limit: boundedInteger(
    1,
    `Rows per page; more than ${MAX_POINTS_PER_PAGE} is taken as ${MAX_POINTS_PER_PAGE}.`,
  ).default(100),
});

const dtype = z.enum(DATASET_DTYPES);

/** A dataset's metadata. */
export const datasetResponse = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  rows: z.number().int(),
  x_dtype: dtype,
  x_shape: z.array(z.number().int()),
  y_dtype: dtype,
  y_shape: z.array(z.number().int()),
  share_with_participants: z.boolean(),
  /** Where its rows are read as points. */
  url: z.string(),
  owner: z.uuid(),
  created_at: z.string(),
});
export type DatasetResponse = z.infer<typeof datasetResponse>;

/** One point, a row: its index, and its `x` and `y` as nested lists (a bare number for a row of one value). */
export const pointResponse = z.object({ index: z.number().int(), x: z.unknown(), y: z.unknown() });

/** A page of rows. */
export const pointsResponse = z.object({
  /** The dataset's rows. */
  count: z.number().int(),
  offset: z.number().int(),
  /** The most rows this page could hold: the asked `limit`, capped. */
  limit: z.number().int(),
  /** The path of the next page, or null after the last one. */
  next: z.string().nullable(),
  points: z.array(pointResponse),
});
export type PointsResponse = z.infer<typeof pointsResponse>;

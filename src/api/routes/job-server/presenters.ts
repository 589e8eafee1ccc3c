import type { Dataset } from '../../../db/models/dataset';
import type { User } from '../../../db/models/user';
import type { GroupWithMembers } from '../../../db/queries/groups';
import { isMember } from '../../use-cases/group-access';
import type { Job } from '../../use-cases/jobs';
import { pageLimit, MAX_POINTS_PER_PAGE, rowValuesOf } from '../../use-cases/dataset-points';
import type { DatasetsByIdResponse, JobParamsResponse } from './schemas';

/** Where the seed-004 client downloads a model: it POSTs there (`load(url, raw=True)`). */
export function modelPath(id: string): string {
  return `/actions/get_model/${id}/`;
}

/** Where the seed-004 client reads a dataset's rows as points. */
export function datasetPointsPath(id: number): string {
  return `/actions/get_dataset_points/${id}.json/`;
}

/** The REST path a job's result goes to: the update, the test metrics or the SWAG moments of the global model. */
const UPLOAD_PATHS: Readonly<Record<Job['phase'], (modelId: string) => string>> = {
  update: (id) => `/api/models/${id}/`,
  test: (id) => `/api/models/${id}/metrics/`,
  swag: (id) => `/api/models/${id}/swag/`,
};

/**
 * What a worker needs to train for a job: the aggregation method, the evaluation dataset, and the task with the model
 * to start from (the one the task's body names, FedDC's assigned model included), where to upload and its deadline.
 */
export function presentJobParams({ task, phase, training }: Job, roundId: number | null): JobParamsResponse {
  const modelId = typeof task.body.model_uuid === 'string' ? task.body.model_uuid : training.modelId;
  const dataset = training.options.evaluation_dataset;
  return {
    algorithm: training.aggregationMethod,
    dataset: typeof dataset === 'number' ? dataset : null,
    params: {
      type: task.type,
      training: training.id,
      round: task.round,
      round_id: roundId,
      model_id: modelId,
      model_url: modelPath(modelId),
      upload_url: UPLOAD_PATHS[phase](training.modelId),
      deadline: task.deadline ? task.deadline.toISOString() : null,
      options: training.options,
      // Trainings do not keep the metric names they were created with (the reference ignores them too).
      metric_names: [],
      body: task.body,
    },
  };
}

/** The groups a caller sees, by name: id, visibility, members and whether the caller is one. */
export function presentGroupsByName(groups: readonly GroupWithMembers[], user: User): Record<string, unknown> {
  return Object.fromEntries(
    groups.map((found) => [
      found.group.name,
      { id: found.group.id, public: found.group.public, members: [...found.memberIds], member: isMember(found, user) },
    ]),
  );
}

/** Datasets by id, with how many rows `get_dataset_points` answers and whether that cuts the dataset short. */
export function presentDatasetsById(datasets: readonly Dataset[]): DatasetsByIdResponse {
  return Object.fromEntries(
    datasets.map((dataset) => {
      const points = Math.min(dataset.rows, pageLimit(rowValuesOf(dataset), MAX_POINTS_PER_PAGE));
      return [
        String(dataset.id),
        {
          name: dataset.name,
          description: dataset.description,
          rows: dataset.rows,
          x_shape: dataset.xShape,
          y_shape: dataset.yShape,
          url: datasetPointsPath(dataset.id),
          points,
          cut: points < dataset.rows,
        },
      ];
    }),
  );
}

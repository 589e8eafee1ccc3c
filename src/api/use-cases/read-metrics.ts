import type { Knex } from 'knex';
import type { Metric } from '../../db/models/metric';
import type { User } from '../../db/models/user';
import { findMetricOfModel, listMetricsOfModel, type MetricScope } from '../../db/queries/metrics';
import { notFound } from '../../errors';
import { readableModel, type ModelAccess } from './model-access';

/**
 * `GET /api/models/{id}/metrics/`: the metrics of a model the caller may read, as far as it may see them.
 * @throws as `readableModel`.
 */
export async function listVisibleMetrics(knex: Knex, user: User, modelId: string): Promise<Metric[]> {
  const access = await readableModel(knex, user, modelId);
  return await listMetricsOfModel(knex, access.model.id, scopeOf(access, user));
}

/**
 * `GET /api/models/{id}/metrics/{metric_id}/`: one metric of a model the caller may read.
 * @throws as `readableModel`; 404 for a metric of another model or another client's that the caller may not see, as
 * for one that does not exist, so that the answer does not tell whose metrics there are.
 */
export async function findVisibleMetric(knex: Knex, user: User, modelId: string, metricId: string): Promise<Metric> {
  const access = await readableModel(knex, user, modelId);
  const metric = await findMetricOfModel(knex, access.model.id, metricId, scopeOf(access, user));
  if (!metric) {
    throw notFound(`Metric ${metricId} not found.`);
  }
  return metric;
}

/**
 * The model's owner and its training's actor see everyone's metrics; a participant (also one FedDC assigned an update
 * to) sees its own and the server's. A caller with several relations gets the widest.
 */
function scopeOf({ relations }: ModelAccess, user: User): MetricScope {
  return relations.has('owner') || relations.has('actor') ? {} : { reporterId: user.id };
}

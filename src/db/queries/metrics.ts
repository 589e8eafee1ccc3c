import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import { Metric } from '../models/metric';

/** A metric value: a number, or bytes with their content type. */
export type MetricValue = { kind: 'float'; value: number } | { kind: 'binary'; value: Buffer; contentType: string };

/** One metric to store. */
export interface NewMetric {
  key: string;
  value: MetricValue;
  /** A short tag the reference's dummy data sets; null otherwise. */
  identifier?: string;
}

/** Where metrics are recorded: the model, its training, the round (step) and the reporter. */
export interface MetricTarget {
  modelId: string;
  trainingId: string | null;
  step: number;
  reporterId: string;
  /** The upload the metrics came with, if any: they live and go with it. */
  uploadId?: string;
}

/** Inserts metrics in one statement (no table lock: rows are independent). `db` may be a transaction. */
export async function insertMetrics(db: Knex, target: MetricTarget, metrics: readonly NewMetric[]): Promise<void> {
  await insertMetricBatches(db, [{ target, metrics }]);
}

/** The metrics of one target, for `insertMetricBatches`. */
export interface MetricBatch {
  target: MetricTarget;
  metrics: readonly NewMetric[];
}

/** Inserts the metrics of several targets in one statement. */
export async function insertMetricBatches(db: Knex, batches: readonly MetricBatch[]): Promise<void> {
  const rows = batches.flatMap(({ target, metrics }) =>
    metrics.map((metric) => ({
      ...target,
      key: metric.key,
      valueFloat: metric.value.kind === 'float' ? metric.value.value : null,
      valueBinary: metric.value.kind === 'binary' ? metric.value.value : null,
      contentType: metric.value.kind === 'binary' ? metric.value.contentType : null,
      identifier: metric.identifier ?? null,
    })),
  );
  if (rows.length === 0) {
    return;
  }
  await Metric.query(db).insert(rows);
}

/** Whose metrics a read returns: everyone's, or (with `reporterId`) that reporter's and the server's (no reporter). */
export interface MetricScope {
  readonly reporterId?: string;
}

/** The metrics of a model in `scope`, in the order they arrived. */
export async function listMetricsOfModel(db: Knex, modelId: string, scope: MetricScope = {}): Promise<Metric[]> {
  return await metricsOfModel(db, modelId, scope).orderBy('id');
}

/** The metric `id` of a model, if it is in `scope`. */
export async function findMetricOfModel(
  db: Knex,
  modelId: string,
  id: string,
  scope: MetricScope = {},
): Promise<Metric | undefined> {
  return await metricsOfModel(db, modelId, scope).findById(id);
}

/** The scope is a condition of the query, so that rows a reader may not see are never loaded. */
function metricsOfModel(db: Knex, modelId: string, { reporterId }: MetricScope): QueryBuilder<Metric> {
  const all = Metric.query(db).where({ modelId });
  if (reporterId === undefined) {
    return all;
  }
  return all.where((own) => {
    own.where({ reporterId }).orWhereNull('reporterId');
  });
}

/** The server's latest float figure of each name on one model: the evaluation of its newest evaluated version. */
export interface LatestServerMetric {
  modelId: string;
  key: string;
  step: number;
  value: number;
}

/** For each of `modelIds`, the server's latest float metric of each name (no reporter; the highest step). */
export async function listLatestServerMetrics(db: Knex, modelIds: readonly string[]): Promise<LatestServerMetric[]> {
  if (modelIds.length === 0) {
    return [];
  }
  const rows = await Metric.query(db)
    .distinctOn('modelId', 'key')
    .select('modelId', 'key', 'step', 'valueFloat')
    .whereIn('modelId', modelIds)
    .whereNull('reporterId')
    .whereNotNull('valueFloat')
    .whereNotNull('step')
    .orderBy([{ column: 'modelId' }, { column: 'key' }, { column: 'step', order: 'desc' }]);
  // The filters above make none of these null.
  return rows.map((row) => ({
    modelId: row.modelId ?? '',
    key: row.key,
    step: row.step ?? 0,
    value: row.valueFloat ?? 0,
  }));
}

import type { Knex } from 'knex';
import { Evaluation } from '../models/evaluation';
import { Metric } from '../models/metric';

/** Marks the server's own metrics (reporter null) of an evaluation. */
export const EVALUATION_IDENTIFIER = 'server-evaluation';

/** Where an evaluation's figures go: the training, its global model, and the version's round. */
export interface EvaluationTarget {
  trainingId: string;
  modelId: string;
  round: number;
}

/**
 * Stores an evaluation's figures as the server's metrics of the version, replacing any an earlier try stored, and
 * marks it done, in one transaction: a retried evaluation leaves one set of figures.
 */
export async function recordEvaluation(
  knex: Knex,
  target: EvaluationTarget,
  figures: Readonly<Record<string, number>>,
  stats: { rows: number; durationMs: number },
): Promise<void> {
  await knex.transaction(async (trx) => {
    await Metric.query(trx)
      .where({ trainingId: target.trainingId, modelId: target.modelId, step: target.round })
      .whereNull('reporterId')
      .where('identifier', EVALUATION_IDENTIFIER)
      .delete();
    await Metric.query(trx).insert(
      Object.entries(figures).map(([key, value]) => ({
        modelId: target.modelId,
        trainingId: target.trainingId,
        step: target.round,
        key,
        valueFloat: value,
        reporterId: null,
        identifier: EVALUATION_IDENTIFIER,
      })),
    );
    await upsert(trx, target, { state: 'done', error: null, ...stats });
  });
}

/** Records why a version has no figures. */
export async function recordEvaluationFailure(knex: Knex, target: EvaluationTarget, error: string): Promise<void> {
  await upsert(knex, target, { state: 'failed', error, rows: null, durationMs: null });
}

async function upsert(
  db: Knex,
  target: EvaluationTarget,
  row: { state: 'done' | 'failed'; error: string | null; rows: number | null; durationMs: number | null },
): Promise<void> {
  await db.raw(
    `INSERT INTO evaluations (training_id, round, state, error, rows, duration_ms) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (training_id, round) DO UPDATE SET state = excluded.state, error = excluded.error,
       rows = excluded.rows, duration_ms = excluded.duration_ms, created_at = now()`,
    [target.trainingId, target.round, row.state, row.error, row.rows, row.durationMs],
  );
}

/** A training's evaluations by version round. */
export async function listEvaluations(db: Knex, trainingId: string): Promise<Evaluation[]> {
  return await Evaluation.query(db).where({ trainingId }).orderBy('round');
}

import type { Knex } from 'knex';
import { TrainingErrorCode } from '../../error-reasons';
import type { FlModel } from '../../db/models/model';
import type { User } from '../../db/models/user';
import { insertMetrics, type NewMetric } from '../../db/queries/metrics';
import { findLatestUpload, insertTestUpload } from '../../db/queries/uploads';
import { isAppError } from '../../errors';
import type { Logger } from '../../logger';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { TrainingState } from '../../training-states';
import { type MetricValueInput, pairMetrics } from './metric-input';
import { readableModel, type ModelAccess } from './model-access';
import { claimSlot, contentDigest, submitToRun } from './upload-slot';

/** What recording metrics needs. */
export interface MetricDeps {
  readonly knex: Knex;
  readonly logger: Logger;
  readonly orchestrator: TrainingOrchestrator;
  /** The largest metric value stored as bytes. */
  readonly maxMetricBytes: number;
}

/**
 * `POST /api/models/{id}/metrics/`: metrics on a model from someone who may read it (owner, actor, participant), at
 * step = the model's round, with the caller as reporter; one insert, no table lock. A participant's metrics on the
 * global model of an ONGOING training are its model-test results: they fill the `test` slot of the round (an exact
 * retry answers as the first time, other metrics for a filled slot 409) and go to the training's run.
 */
export async function recordMetrics(
  deps: MetricDeps,
  user: User,
  modelId: string,
  names: readonly string[] | undefined,
  values: readonly MetricValueInput[] | undefined,
): Promise<FlModel> {
  const access = await readableModel(deps.knex, user, modelId);
  const { model, training } = access;
  const metrics = pairMetrics(names, values, { required: true, maxValueBytes: deps.maxMetricBytes });
  if (!training && model.type !== 'LOCAL') {
    deps.logger.warn(`Global model ${model.id} is not connected to any training.`);
  }
  const target = { modelId: model.id, trainingId: training?.id ?? null, step: model.round, reporterId: user.id };
  if (!isTestResult(access)) {
    if (!(await isLateTestRetry(deps.knex, access, user, [names, values]))) {
      await insertMetrics(deps.knex, target, metrics);
    }
    return model;
  }
  try {
    await recordTestResult(deps, access, user, metrics, [names, values]);
  } catch (err) {
    // The run is past its test round (its refusal gave the slot back): a retry of metrics it already took is answered
    // as their first try was.
    if (!isWrongPhase(err) || !(await isLateTestRetry(deps.knex, access, user, [names, values]))) {
      throw err;
    }
  }
  return model;
}

function isWrongPhase(err: unknown): boolean {
  return isAppError(err) && (err.details as { reason?: unknown } | undefined)?.reason === TrainingErrorCode.WRONG_PHASE;
}

function isTestResult(access: ModelAccess): boolean {
  return access.relations.has('participant') && access.training?.state === TrainingState.ONGOING;
}

/**
 * True when a participant repeats the test metrics of its latest filled test slot, but the training has moved on
 * since: the first try got a 503 while no worker ran, the run took the stored metrics once a worker was back, and the
 * retry arrives after the test round closed (the model may be a round further by then, or the training finished).
 * Metrics carry no round, so the latest test slot up to the model's round is the one a retry can only be for. It
 * answers as the first did and stores nothing.
 */
async function isLateTestRetry(knex: Knex, access: ModelAccess, user: User, content: unknown): Promise<boolean> {
  const { model, training, relations } = access;
  if (!training || !relations.has('participant')) {
    return false;
  }
  const latest = await findLatestUpload(
    knex,
    { trainingId: training.id, clientId: user.id, phase: 'test' },
    model.round,
  );
  return latest?.contentDigest === contentDigest(['test', content]);
}

async function recordTestResult(
  deps: MetricDeps,
  { model, training }: ModelAccess,
  user: User,
  metrics: readonly NewMetric[],
  content: unknown,
): Promise<void> {
  if (!training) {
    return;
  }
  const { knex } = deps;
  const slot = { trainingId: training.id, round: model.round, clientId: user.id, phase: 'test' as const };
  const digest = contentDigest(['test', content]);
  const upload = await claimSlot(knex, slot, digest, () => insertTestUpload(knex, slot, digest, model.id, metrics));
  await submitToRun(deps, training, upload);
}

import { condition, log, patched, workflowInfo } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { TrainingErrorCode } from '../../error-reasons';
import type {
  TaskNotificationType,
  TrainingActivities,
  TrainingNotificationType,
} from '../../activities/training-activity-types';
import { TrainingState } from '../../training-states';
import { nextDaisyChainStep } from './daisy-chain';
import type { TrainingRun } from './training-run';

/** What one round needs from its workflow. */
export interface RoundContext {
  state: TrainingRun;
  acts: TrainingActivities;
  /** Refreshes search attributes and the Web UI's current details. */
  publish(): void;
  /** Starts the server's evaluation of version `round` in the background, when the training names a dataset. */
  evaluate(round: number): void;
}

/**
 * Sends a notification; receivers whose endpoint failed after every retry leave the training, and the actor is told
 * with CLIENT_REMOVED.
 */
export async function notify(
  ctx: RoundContext,
  type: TrainingNotificationType,
  receivers: string[],
  body: Record<string, unknown>,
  perReceiver?: Record<string, Record<string, unknown>>,
): Promise<void> {
  const { settings } = ctx.state;
  const { undeliverable } = await ctx.acts.sendNotifications({
    trainingId: settings.trainingId,
    key: `${type}:${ctx.state.round}`,
    type,
    receivers,
    body,
    ...(perReceiver ? { perReceiver } : {}),
    round: ctx.state.round,
    ...(ctx.state.deadlineMs === null ? {} : { deadline: new Date(ctx.state.deadlineMs).toISOString() }),
  });
  for (const clientId of undeliverable) {
    if (!ctx.state.remove(clientId)) {
      continue;
    }
    const reason = `notification ${type} could not be delivered`;
    await ctx.acts.removeParticipant({ trainingId: settings.trainingId, clientId, reason });
    await ctx.acts.sendNotifications({
      trainingId: settings.trainingId,
      key: `CLIENT_REMOVED:${clientId}`,
      type: 'CLIENT_REMOVED',
      receivers: [settings.actorId],
      body: { client_uuid: clientId, reason },
    });
  }
  ctx.publish();
}

/** Histories recorded before tasks were closed at the end of each wait replay without that activity. */
const ROUND_TASKS_PATCH = 'close-round-tasks';

/** Marks the tasks of the wait that just ended done (docs/api.md#tasks): after `endWait`, before the next wait. */
async function closeTasks(ctx: RoundContext, type: TaskNotificationType): Promise<void> {
  if (patched(ROUND_TASKS_PATCH)) {
    const { state } = ctx;
    await ctx.acts.closeRoundTasks({
      trainingId: state.settings.trainingId,
      round: state.round,
      type,
      ...state.waitOutcome(),
    });
  }
}

/** Waits until every participant has uploaded or the deadline passes; returns whether all arrived. */
async function waitForUploads(ctx: RoundContext, what: string): Promise<boolean> {
  const { state } = ctx;
  const remaining = Math.max(0, (state.deadlineMs ?? 0) - Date.now());
  return condition(() => state.allArrived() || state.participants.length === 0, remaining, {
    summary: `waiting for ${what}, round ${state.round}`,
  });
}

/** What one deadline-bounded collection waits for: model updates, or SWAG moments after the last aggregation. */
interface Collection {
  phase: 'UPDATE' | 'SWAG';
  notification: TrainingNotificationType;
  body: Record<string, unknown>;
  /** Names the uploads in the Web UI's wait summary. */
  what: string;
  /** Names one upload in the below-quorum error. */
  counted: string;
  /** Fields added to the body for single receivers. */
  perReceiver?: Record<string, Record<string, unknown>>;
}

/**
 * Collects uploads: a deadline, then whoever met it if the quorum did, one extension otherwise. When every participant
 * has answered but declines leave the uploads below the quorum, nobody is left to wait for: the training fails at once.
 */
async function collect(ctx: RoundContext, collection: Collection): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  state.beginWait(collection.phase, Date.now() + settings.roundTimeoutMs);
  ctx.publish();
  await notify(ctx, collection.notification, state.participants, collection.body, collection.perReceiver);
  for (;;) {
    if (state.participants.length === 0) {
      throw ApplicationFailure.create({
        type: TrainingErrorCode.NO_PARTICIPANTS,
        message: `No participants are left in round ${state.round}.`,
        nonRetryable: true,
      });
    }
    const complete = await waitForUploads(ctx, collection.what);
    if (state.receivedCount() >= state.quorum() || (complete && state.declinedCount() === 0)) {
      return;
    }
    if (state.extended || complete) {
      const round = collection.phase === 'SWAG' ? `The SWAG round of round ${state.round}` : `Round ${state.round}`;
      const when = complete
        ? `, and the other participants declined (${state.declinedCount()})`
        : ' before the extended deadline';
      throw ApplicationFailure.create({
        type: TrainingErrorCode.BELOW_QUORUM,
        message: `${round} ended below quorum: ${state.receivedCount()} of ${state.quorum()} required ${collection.counted} arrived${when}.`,
        nonRetryable: true,
      });
    }
    log.warn('wait below quorum at its deadline; extending once', {
      trainingId: settings.trainingId,
      round: state.round,
      phase: collection.phase,
    });
    state.extended = true;
    state.deadlineMs = Date.now() + settings.roundTimeoutMs;
    ctx.publish();
  }
}

/**
 * The update phase: every participant is told to train from the global model (FedProx: with μ); under FedDC the
 * body also names the model each one starts from, `model_uuid`: the global model, or the local model assigned to it.
 */
async function collectUpdates(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  const joined = state.admitJoiners();
  if (joined.length > 0) {
    log.info('clients joined', { trainingId: settings.trainingId, round: state.round, joined });
  }
  const body: Record<string, unknown> = { round: state.round, global_model_uuid: settings.modelId };
  if (settings.proximalMu !== undefined) {
    body.proximal_mu = settings.proximalMu;
  }
  const assignments = state.daisyChain?.assignments;
  if (assignments) {
    body.model_uuid = settings.modelId;
  }
  await collect(ctx, {
    phase: 'UPDATE',
    notification: 'UPDATE_ROUND_START',
    body,
    what: 'model updates',
    counted: 'updates',
    ...(assignments ? { perReceiver: perReceiverModels(assignments) } : {}),
  });
}

function perReceiverModels(assignments: Record<string, string>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(assignments).map(([clientId, modelId]) => [clientId, { model_uuid: modelId }]),
  );
}

/**
 * One round: updates, aggregation into round + 1, and (unless skipped) a test round on the new model. A FedDC round
 * between aggregations instead moves to round + 1 at once with the next round's assignments, untested.
 */
export async function runRound(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  await collectUpdates(ctx);
  const leftOut = state.recordLeftOut();
  const updates = state.endWait('AGGREGATING');
  ctx.publish();
  await closeTasks(ctx, 'UPDATE_ROUND_START');
  if (settings.daisyChain && state.daisyChain) {
    const step = nextDaisyChainStep({
      periods: settings.daisyChain,
      seed: state.daisyChain.seed,
      startRound: settings.startRound,
      finalRound: state.finalRound(),
      round: state.round,
      participants: state.participants,
      updates,
    });
    if (step.kind !== 'aggregate') {
      const advanced = await ctx.acts.advanceRound({ trainingId: settings.trainingId, round: state.round });
      log.info('daisy-chained', {
        trainingId: settings.trainingId,
        round: state.round,
        step: step.kind,
        assignments: step.assignments,
        leftOut,
      });
      state.round = advanced.round;
      state.daisyChain = { seed: state.daisyChain.seed, assignments: step.assignments };
      ctx.publish();
      return;
    }
    state.daisyChain = { seed: state.daisyChain.seed, assignments: {} };
  }
  const result = await ctx.acts.aggregateRound({
    trainingId: settings.trainingId,
    round: state.round,
    updates,
    ...(state.strategyStateDigest === undefined ? {} : { stateDigest: state.strategyStateDigest }),
  });
  state.strategyStateDigest = result.stateDigest;
  log.info('aggregated', {
    trainingId: settings.trainingId,
    round: state.round,
    updates: updates.length,
    leftOut,
    workflowId: workflowInfo().workflowId,
  });
  state.round = result.round;
  ctx.evaluate(state.round);
  const lastRound = state.round >= state.finalRound();
  if (settings.skipModelTests || (settings.modelTestAfterEachRound === false && !lastRound)) {
    ctx.publish();
    return;
  }
  state.beginWait('TEST', Date.now() + settings.testTimeoutMs);
  await notify(ctx, 'MODEL_TEST_ROUND', state.participants, {
    round: state.round,
    global_model_uuid: settings.modelId,
  });
  await waitForUploads(ctx, 'test metrics');
  state.endWait('AGGREGATING');
  await closeTasks(ctx, 'MODEL_TEST_ROUND');
}

/**
 * The SWAG round after the last aggregation (docs/training.md#the-swag-round): the training is recorded in state S so
 * the API takes moments, participants get SWAG_ROUND_START, and the sample-size-weighted means of the moments that met
 * the deadline become the model's SWAG moments.
 */
export async function runSwagRound(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  await ctx.acts.recordTrainingState({ trainingId: settings.trainingId, state: TrainingState.SWAG_ROUND });
  await collect(ctx, {
    phase: 'SWAG',
    notification: 'SWAG_ROUND_START',
    body: { round: state.round, global_model_uuid: settings.modelId },
    what: 'SWAG moments',
    counted: 'moment uploads',
  });
  state.recordLeftOut('swag');
  const uploads = state.endWait('AGGREGATING');
  ctx.publish();
  await closeTasks(ctx, 'SWAG_ROUND_START');
  await ctx.acts.aggregateSwag({ trainingId: settings.trainingId, round: state.round, uploads });
}

import { condition, log, workflowInfo } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { TrainingActivities, TrainingNotificationType } from '../../activities/training-activity-types';
import { TrainingErrorCode } from './definitions';
import type { TrainingState } from './training-state';

/** What one round needs from its workflow. */
export interface RoundContext {
  state: TrainingState;
  acts: TrainingActivities;
  /** Refreshes search attributes and the Web UI's current details. */
  publish(): void;
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
): Promise<void> {
  const { settings } = ctx.state;
  const { undeliverable } = await ctx.acts.sendNotifications({
    trainingId: settings.trainingId,
    key: `${type}:${ctx.state.round}`,
    type,
    receivers,
    body,
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

/** Waits until every participant has uploaded or the deadline passes; returns whether all arrived. */
async function waitForUploads(ctx: RoundContext, what: string): Promise<boolean> {
  const { state } = ctx;
  const remaining = Math.max(0, (state.deadlineMs ?? 0) - Date.now());
  return condition(() => state.allArrived() || state.participants.length === 0, remaining, {
    summary: `waiting for ${what}, round ${state.round}`,
  });
}

/** The update phase: a deadline, then aggregation with whoever met it if the quorum did, one extension otherwise. */
async function collectUpdates(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  state.beginWait('UPDATE', Date.now() + settings.roundTimeoutMs);
  ctx.publish();
  const body: Record<string, unknown> = { round: state.round, global_model_uuid: settings.modelId };
  if (settings.proximalMu !== undefined) {
    body.proximal_mu = settings.proximalMu;
  }
  await notify(ctx, 'UPDATE_ROUND_START', state.participants, body);
  for (;;) {
    if (state.participants.length === 0) {
      throw ApplicationFailure.create({
        type: TrainingErrorCode.NO_PARTICIPANTS,
        message: `No participants are left in round ${state.round}.`,
        nonRetryable: true,
      });
    }
    if ((await waitForUploads(ctx, 'model updates')) || state.receivedCount() >= state.quorum()) {
      return;
    }
    if (state.extended) {
      throw ApplicationFailure.create({
        type: TrainingErrorCode.BELOW_QUORUM,
        message: `Round ${state.round} ended below quorum: ${state.receivedCount()} of ${state.quorum()} required updates arrived before the extended deadline.`,
        nonRetryable: true,
      });
    }
    log.warn('round below quorum at its deadline; extending once', { round: state.round });
    state.extended = true;
    state.deadlineMs = Date.now() + settings.roundTimeoutMs;
    ctx.publish();
  }
}

/** One round: updates, aggregation into round + 1, and (unless skipped) a test round on the new model. */
export async function runRound(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  await collectUpdates(ctx);
  const leftOut = state.recordLeftOut();
  const updates = state.endWait('AGGREGATING');
  ctx.publish();
  const result = await ctx.acts.aggregateRound({
    trainingId: settings.trainingId,
    round: state.round,
    updates,
    ...(state.strategyStateDigest === undefined ? {} : { stateDigest: state.strategyStateDigest }),
  });
  state.strategyStateDigest = result.stateDigest;
  log.info('aggregated', {
    round: state.round,
    updates: updates.length,
    leftOut,
    workflowId: workflowInfo().workflowId,
  });
  state.round = result.round;
  const lastRound = state.round >= settings.targetNumUpdates;
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
}

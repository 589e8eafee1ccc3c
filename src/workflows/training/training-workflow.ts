import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { EvaluationOutcome, TrainingActivities } from '../../activities/training-activity-types';
import { TrainingState } from '../../training-states';
import { ACTIVITY_RETRY, OUTAGE_BUDGET } from './activity-retry';
import { installHandlers } from './handlers';
import { publish } from './publish';
import { notify, runRound, runSwagRound, type RoundContext } from './round';
import { type CarriedTrainingState, TrainingRun } from './training-run';

const retry = ACTIVITY_RETRY;
// Attempts go on through an outage of the database or the blob store until the budget is spent (activity-retry.ts).
const scheduleToCloseTimeout = OUTAGE_BUDGET;
const quick = proxyActivities<TrainingActivities>({ startToCloseTimeout: '1 minute', scheduleToCloseTimeout, retry });
// Aggregation reads every update: it may take long on big models, and heartbeats on every chunk so a dead worker
// is noticed in a minute rather than at the end of the timeout.
const slow = proxyActivities<TrainingActivities>({
  startToCloseTimeout: '2 hours',
  scheduleToCloseTimeout,
  heartbeatTimeout: '1 minute',
  retry,
});
// A push waits out its timeout and backoff per receiver, and one round start may go to thousands of clients: the
// activity may take hours, and heartbeats every few seconds so a dead worker is noticed in half a minute.
const notifying = proxyActivities<TrainingActivities>({
  startToCloseTimeout: '6 hours',
  scheduleToCloseTimeout,
  heartbeatTimeout: '30 seconds',
  retry,
});
// An evaluation reads the whole dataset through the model and heartbeats per batch. It never fails the training: it
// records what it cannot evaluate, and a run of infrastructure failures ends after a few attempts (logged).
const evaluating = proxyActivities<TrainingActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});
/**
 * The activities, spelled out (activity proxies have no own keys to spread), each call with a summary the Web UI
 * shows. The heavy ones (aggregations, evaluations) go to `aggregationQueue` when the settings name one, so that
 * workers for them scale apart from the workers running workflows; otherwise to the training's own task queue.
 */
function activitiesOn(aggregationQueue: string | undefined): TrainingActivities {
  const heavy = aggregationQueue === undefined ? {} : { taskQueue: aggregationQueue };
  return {
    loadTrainingSettings: (trainingId) =>
      quick.loadTrainingSettings.executeWithOptions({ summary: 'load the training settings' }, [trainingId]),
    recordTrainingState: (input) =>
      quick.recordTrainingState.executeWithOptions({ summary: `record state ${input.state}` }, [input]),
    sendNotifications: (input) =>
      notifying.sendNotifications.executeWithOptions(
        { summary: `${input.type} to ${input.receivers.length} receiver(s)` },
        [input],
      ),
    evaluateVersion: (input) =>
      evaluating.evaluateVersion.executeWithOptions(
        { summary: `evaluate round ${input.round} on the dataset`, ...heavy },
        [input],
      ),
    closeRoundTasks: (input) =>
      quick.closeRoundTasks.executeWithOptions({ summary: `close the ${input.type} tasks of round ${input.round}` }, [
        input,
      ]),
    removeParticipant: (input) =>
      quick.removeParticipant.executeWithOptions({ summary: `remove client ${input.clientId}` }, [input]),
    aggregateRound: (input) =>
      slow.aggregateRound.executeWithOptions(
        { summary: `aggregate round ${input.round} from ${input.updates.length} update(s)`, ...heavy },
        [input],
      ),
    advanceRound: (input) =>
      quick.advanceRound.executeWithOptions(
        { summary: `round ${input.round} done; daisy-chain on without aggregating` },
        [input],
      ),
    aggregateSwag: (input) =>
      slow.aggregateSwag.executeWithOptions(
        { summary: `average the SWAG moments of ${input.uploads.length} client(s)`, ...heavy },
        [input],
      ),
  };
}

/** Input of a training workflow: the training id; continue-as-new adds the carried state. */
export interface TrainingWorkflowInput {
  trainingId: string;
  carried?: CarriedTrainingState;
}

/**
 * One training, from TRAINING_START to TRAINING_FINISHED: per round, a deadline-bounded wait for updates,
 * aggregation, and a deadline-bounded wait for test metrics, until `targetNumUpdates` aggregations are done; then,
 * for `uncertainty_method` SWAG, one SWAG round.
 */
export async function trainingWorkflow(input: TrainingWorkflowInput): Promise<{ round: number }> {
  // A continued run has its state before its handlers: an upload buffered across the hand-over finds it at once.
  const carried = input.carried && new TrainingRun(input.carried.settings, input.carried);
  const slot = installHandlers(input.trainingId, carried);
  const state =
    carried ?? slot.attach(new TrainingRun(await activitiesOn(undefined).loadTrainingSettings(input.trainingId)));
  const { settings } = state;
  const acts = activitiesOn(settings.aggregationTaskQueue);
  const evaluations: Array<Promise<void>> = [];
  const ctx: RoundContext = {
    state,
    acts,
    publish: () => publish(state),
    evaluate: (round) => {
      if (settings.evaluationDatasetId !== undefined) {
        evaluations.push(evaluate(acts, state, round));
      }
    },
  };
  let finished: boolean;
  try {
    if (!input.carried) {
      if (settings.daisyChain) {
        // Drawn once (replay repeats workflow randomness) and carried: every permutation of the training follows.
        state.daisyChain = { seed: Math.floor(Math.random() * 0x1_0000_0000), assignments: {} };
      }
      await acts.recordTrainingState({ trainingId: settings.trainingId, state: TrainingState.ONGOING });
      ctx.evaluate(settings.startRound);
      await notify(ctx, 'TRAINING_START', state.participants, { global_model_uuid: settings.modelId });
    }
    finished = await runRounds(ctx);
    // Evaluations run beside the rounds; the run ends (or hands over) only once they are stored.
    await Promise.all(evaluations);
    if (finished) {
      if (settings.uncertaintyMethod === 'SWAG') {
        await runSwagRound(ctx);
      }
      await finish(ctx);
    }
  } catch (err) {
    return fail(ctx, err);
  }
  await condition(allHandlersFinished);
  if (!finished) {
    return continueAsNew<typeof trainingWorkflow>({ ...input, carried: state.carry() });
  }
  return { round: state.round };
}

/**
 * Evaluates one version in the background of the rounds and shows the figures (or why there are none) in the memo
 * and the Web UI's current details. Never throws: the training goes on whatever the evaluation does.
 */
async function evaluate(acts: TrainingActivities, state: TrainingRun, round: number): Promise<void> {
  const { trainingId } = state.settings;
  let outcome: EvaluationOutcome;
  try {
    outcome = await acts.evaluateVersion({ trainingId, round });
  } catch (err) {
    log.warn('evaluation failed after its retries', { trainingId, round, error: reasonOf(err) });
    outcome = { round, error: `evaluation failed after its retries: ${reasonOf(err)}` };
  }
  // Evaluations may finish out of order: the memo and the details show the latest version's.
  if (state.lastEvaluation === undefined || state.lastEvaluation.round <= round) {
    state.lastEvaluation = outcome;
    upsertMemo({ evaluation: outcome });
    publish(state);
  }
}

/** Runs rounds until the target is reached (true) or this run should hand over to a new one (false). */
async function runRounds(ctx: RoundContext): Promise<boolean> {
  const { state } = ctx;
  do {
    await runRound(ctx);
    if (state.round < state.finalRound() && workflowInfo().continueAsNewSuggested) {
      return false;
    }
  } while (state.round < state.finalRound());
  return true;
}

async function finish(ctx: RoundContext): Promise<void> {
  const { state } = ctx;
  const { settings } = state;
  state.endWait('FINISHED');
  publish(state);
  await ctx.acts.recordTrainingState({ trainingId: settings.trainingId, state: TrainingState.COMPLETED });
  const receivers = [...new Set([...state.participants, settings.actorId])];
  await notify(ctx, 'TRAINING_FINISHED', receivers, { global_model_uuid: settings.modelId });
}

/** Records ERROR with the reason and fails the workflow; a cancellation (the training was deleted) records nothing. */
async function fail(ctx: RoundContext, err: unknown): Promise<never> {
  if (isCancellation(err)) {
    throw err;
  }
  const { state } = ctx;
  state.endWait('FAILED');
  publish(state);
  const reason = reasonOf(err);
  await ctx.acts.recordTrainingState({
    trainingId: state.settings.trainingId,
    state: TrainingState.ERROR,
    error: reason,
  });
  throw err instanceof ApplicationFailure ? err : ApplicationFailure.create({ message: reason, nonRetryable: true });
}

/** The innermost message: an activity's failure arrives wrapped as "Activity task failed". */
function reasonOf(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) {
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}

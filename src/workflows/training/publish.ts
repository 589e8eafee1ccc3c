import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { type RecordedTrainingState, TrainingState } from '../../training-states';
import { AGGREGATION_METHOD, TRAINING_ACTOR, TRAINING_ROUND, TRAINING_STATE } from './definitions';
import type { TrainingRun } from './training-run';

/** The stored state each phase of a run shows as (the TrainingState search attribute). */
const STATE_CODES: Record<TrainingRun['phase'], RecordedTrainingState> = {
  STARTING: TrainingState.ONGOING,
  UPDATE: TrainingState.ONGOING,
  AGGREGATING: TrainingState.ONGOING,
  TEST: TrainingState.ONGOING,
  SWAG: TrainingState.SWAG_ROUND,
  FINISHED: TrainingState.COMPLETED,
  FAILED: TrainingState.ERROR,
};

/** The last server evaluation, as one line: the figures of its round, or why it has none. */
function evaluationLine(state: TrainingRun): string {
  const last = state.lastEvaluation;
  if (!last) {
    return '';
  }
  if ('error' in last) {
    return `Server evaluation of round ${last.round}: none (${last.error})`;
  }
  const figures = Object.entries(last.figures).map(([name, value]) => `${name} ${value.toFixed(4)}`);
  return `Server evaluation of round ${last.round}: ${figures.join(', ')} on ${last.rows} rows`;
}

/** Keeps the search attributes and the Web UI's current details in step with the state. */
export function publish(state: TrainingRun): void {
  const { settings } = state;
  upsertSearchAttributes([
    { key: TRAINING_STATE, value: STATE_CODES[state.phase] },
    { key: TRAINING_ROUND, value: state.round },
    { key: TRAINING_ACTOR, value: settings.actorId },
    { key: AGGREGATION_METHOD, value: settings.aggregationMethod },
  ]);
  const status = state.status();
  setCurrentDetails(
    [
      `**Round ${status.round}** of ${state.finalRound()}, phase **${status.phase}**`,
      status.deadline ? `Deadline ${status.deadline}${status.extended ? ' (extended once)' : ''}` : '',
      evaluationLine(state),
      '',
      '| participant | uploaded |',
      '| --- | --- |',
      ...status.participants.map((id) => `| ${id} | ${status.received.includes(id) ? 'yes' : 'no'} |`),
    ].join('\n'),
  );
}

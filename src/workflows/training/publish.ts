import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { AGGREGATION_METHOD, TRAINING_ACTOR, TRAINING_ROUND, TRAINING_STATE } from './definitions';
import type { TrainingState } from './training-state';

const STATE_CODES = {
  STARTING: 'O',
  UPDATE: 'O',
  AGGREGATING: 'O',
  TEST: 'O',
  SWAG: 'S',
  FINISHED: 'C',
  FAILED: 'E',
} as const;

/** Keeps the search attributes and the Web UI's current details in step with the state. */
export function publish(state: TrainingState): void {
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
      '',
      '| participant | uploaded |',
      '| --- | --- |',
      ...status.participants.map((id) => `| ${id} | ${status.received.includes(id) ? 'yes' : 'no'} |`),
    ].join('\n'),
  );
}

/**
 * A training's state, one letter as the reference stores it: INITIAL until started, ONGOING while rounds run,
 * SWAG_ROUND while the SWAG moments are collected after the last aggregation, then COMPLETED or ERROR. Shared by
 * the database, the API, the activities and the workflow (this module imports nothing).
 */
export const TrainingState = {
  INITIAL: 'I',
  ONGOING: 'O',
  COMPLETED: 'C',
  ERROR: 'E',
  SWAG_ROUND: 'S',
} as const;
export type TrainingState = (typeof TrainingState)[keyof typeof TrainingState];

/** Every state, in lifecycle order: the API's enum and the database CHECK. */
export const TRAINING_STATES = [
  TrainingState.INITIAL,
  TrainingState.ONGOING,
  TrainingState.COMPLETED,
  TrainingState.ERROR,
  TrainingState.SWAG_ROUND,
] as const;

/** The states a run records: a started training never goes back to INITIAL. */
export type RecordedTrainingState = Exclude<TrainingState, typeof TrainingState.INITIAL>;

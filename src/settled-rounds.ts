import type { RoundView } from './api/routes/trainings/round-schemas';
import { TrainingState } from './training-states';

/** What decides whether a training's rounds can still change: its state, and whether the server evaluates versions. */
export interface SettlingTraining {
  readonly state: string;
  readonly options: { readonly evaluation_dataset?: unknown };
}

/**
 * Whether a round's view no longer changes: it is done or failed, and the server's figures on the version it produced
 * are in, failed, or never come (no evaluation dataset, or the training has ended). The server evaluates in the
 * background of the next round, so a round is often done a little before its figures arrive. Shared by the
 * dashboard's live view and `roundhouse trainings watch`, which read only the rounds after the settled ones again.
 */
export function roundSettled(training: SettlingTraining, round: RoundView): boolean {
  if (round.state !== 'DONE' && round.state !== 'FAILED') {
    return false;
  }
  return (
    training.state === TrainingState.COMPLETED ||
    training.state === TrainingState.ERROR ||
    training.options.evaluation_dataset === undefined ||
    round.produced === null ||
    Object.keys(round.server_metrics).length > 0 ||
    round.evaluation_errors[String(round.produced)] !== undefined
  );
}

/** Rounds 0 … n − 1 of `rounds` (a training's, in order) that are all settled: a reader need not read them again. */
export function settledRounds<R extends RoundView>(training: SettlingTraining, rounds: readonly R[]): readonly R[] {
  const unsettled = rounds.findIndex((round, i) => round.round !== i || !roundSettled(training, round));
  return unsettled === -1 ? rounds : rounds.slice(0, unsettled);
}

import type { User } from '../../db/models/user';
import { findRoundById } from '../../db/queries/rounds';
import { findTrainingById } from '../../db/queries/trainings';
import { notFound } from '../../errors';
import type { RoundView } from '../routes/trainings/round-schemas';
import { findRoundView } from './round-view';
import { joinTraining, type TrainingDeps } from './training-commands';
import { isMember } from './training-access';

/**
 * The seed-004 client's `get_round(round_id)`: a round by its id (unique across trainings). A caller who is neither
 * the training's actor nor a participant joins the training first (`joinTraining`, with its rules: only a member of
 * the training's group); then the round is read as `GET /api/trainings/{id}/rounds/{n}/` reads it.
 * @throws 404 for a missing round or a training the caller may neither read nor join, 403 and 400 as `joinTraining`.
 */
export async function joinRound(deps: TrainingDeps, user: User, roundId: number): Promise<RoundView> {
  const round = await findRoundById(deps.knex, roundId);
  const training = round && (await findTrainingById(deps.knex, round.trainingId));
  if (!round || !training) {
    throw notFound(`Round ${roundId} not found.`);
  }
  if (!isMember(training, user)) {
    await joinTraining(deps, user, training.id);
  }
  return await findRoundView(deps.knex, user, training.id, round.number);
}

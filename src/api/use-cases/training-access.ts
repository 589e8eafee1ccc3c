import type { Knex } from 'knex';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { findTrainingById } from '../../db/queries/trainings';
import { notFound } from '../../errors';
import { forbidden, NO_PERMISSION } from '../../errors';

/** True when `user` is the training's actor or one of its participants. */
export function isMember(training: Training, user: User): boolean {
  return training.actorId === user.id || (training.participants?.some((p) => p.id === user.id) ?? false);
}

/** A training its actor or a participant reads. @throws 404 when missing or when the caller has no relation to it. */
export async function readableTraining(knex: Knex, user: User, id: string): Promise<Training> {
  const training = await findTrainingById(knex, id);
  if (!training || !isMember(training, user)) {
    throw notFound(`Training ${id} not found.`);
  }
  return training;
}

/**
 * A training only its actor may change (start, clients, delete).
 * @throws 404 when missing, 403 with `message` for anyone else (the reference answers 403 there too).
 */
export async function actorTraining(knex: Knex, user: User, id: string, message = NO_PERMISSION): Promise<Training> {
  const training = await findTrainingById(knex, id);
  if (!training) {
    throw notFound(`Training ${id} not found.`);
  }
  if (training.actorId !== user.id) {
    throw forbidden(message);
  }
  return training;
}

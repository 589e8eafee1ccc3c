import type { Knex } from 'knex';
import type { FlModel } from '../../db/models/model';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { findModelById } from '../../db/queries/models';
import { wasAssignedModel } from '../../db/queries/notifications';
import { findTrainingOfModel } from '../../db/queries/trainings';
import { notFound } from '../../errors';
import { forbidden } from '../../errors';

/**
 * How a user stands to a model (docs/api.md#who-may-read-a-model): its owner, its training's actor, a participant of
 * its training (of a global model), or a participant of the training another participant's update belongs to (`fellow`:
 * related, but may not read it). A user may hold several at once: the reference's MNIST example makes its first client
 * the model's owner, the training's actor and a participant.
 */
export type ModelRelation = 'owner' | 'actor' | 'participant' | 'fellow';

/** A model with the training it belongs to (for an update, its global model's training) and the caller's relations. */
export interface ModelAccess {
  readonly model: FlModel;
  readonly training: Training | undefined;
  /** Every relation the caller holds; empty for a stranger. */
  readonly relations: ReadonlySet<ModelRelation>;
}

/** Finds a model and the caller's relations to it. @throws 404 when it does not exist. */
export async function accessModel(knex: Knex, user: User, id: string): Promise<ModelAccess> {
  const model = await findModelById(knex, id);
  if (!model) {
    throw notFound(`Model ${id} not found.`);
  }
  const training = await findTrainingOfModel(knex, model.baseModelId ?? model.id);
  const participantIds = new Set(training?.participants?.map((p) => p.id));
  return { model, training, relations: relationsOf(user, model, training, participantIds) };
}

/**
 * A model the caller may read: the owner, the training's actor, for a global model its participants, and for an
 * update the participant FedDC assigned it to (a round-start notification told them to train from it).
 * @throws 404 for a caller with no relation (and for a missing model), 403 for a participant reading another's update.
 */
export async function readableModel(knex: Knex, user: User, id: string): Promise<ModelAccess> {
  const access = await accessModel(knex, user, id);
  const { relations } = access;
  if (relations.size === 0) {
    throw notFound(`Model ${id} not found.`);
  }
  if (relations.size === 1 && relations.has('fellow')) {
    const assigned = access.training && (await wasAssignedModel(knex, access.training.id, user.id, access.model.id));
    if (!assigned) {
      throw forbidden();
    }
  }
  return access;
}

/**
 * Every relation `user` holds to `model`, whose (global model's) training is `training` with the participants
 * `participantIds`.
 */
export function relationsOf(
  user: User,
  model: FlModel,
  training: Omit<Training, 'participants'> | undefined,
  participantIds: ReadonlySet<string>,
): Set<ModelRelation> {
  const relations = new Set<ModelRelation>();
  if (model.ownerId === user.id) {
    relations.add('owner');
  }
  if (training?.actorId === user.id) {
    relations.add('actor');
  }
  if (participantIds.has(user.id)) {
    relations.add(model.type === 'LOCAL' ? 'fellow' : 'participant');
  }
  return relations;
}

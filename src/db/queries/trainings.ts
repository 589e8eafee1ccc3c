import type { Knex } from 'knex';
import type { AnyQueryBuilder } from 'objection';
import { Training, type TrainingSpec } from '../models/training';
import { TrainingState } from '../../training-states';

/** The training with `id` and its participants, if any. `db` is the knex instance or a transaction. */
export async function findTrainingById(db: Knex, id: string): Promise<Training | undefined> {
  return await Training.query(db).findById(id).withGraphFetched('participants(ordered)').modifiers(ORDERED);
}

/** The training of a global model, with its participants, if the model has one. */
export async function findTrainingOfModel(db: Knex, modelId: string): Promise<Training | undefined> {
  return await Training.query(db).findOne({ modelId }).withGraphFetched('participants(ordered)').modifiers(ORDERED);
}

/**
 * The training of a global model without its participants, and whether `userId` is one of them: what an upload
 * checks, without reading a thousand participants' rows for each of a thousand uploads.
 */
export async function findTrainingOfModelFor(
  db: Knex,
  modelId: string,
  userId: string,
): Promise<{ training: Training; participant: boolean } | undefined> {
  const found = await Training.query(db)
    .findOne({ modelId })
    .select(
      'trainings.*',
      db.raw(
        'EXISTS (SELECT 1 FROM training_participants p WHERE p.training_id = trainings.id AND p.user_id = ?) AS is_participant',
        [userId],
      ),
    )
    .castTo<Training & { isParticipant?: boolean }>();
  if (!found) {
    return undefined;
  }
  const participant = found.isParticipant === true;
  delete found.isParticipant;
  return { training: found, participant };
}

/** Trainings whose actor is `userId`. */
export async function listTrainingsOfActor(db: Knex, userId: string): Promise<Training[]> {
  return await Training.query(db)
    .where('actorId', userId)
    .orderBy('createdAt')
    .withGraphFetched('participants(ordered)')
    .modifiers(ORDERED);
}

/** Trainings where `userId` is the actor or a participant. */
export async function listTrainingsOfUser(db: Knex, userId: string): Promise<Training[]> {
  return await Training.query(db)
    .where('actorId', userId)
    .orWhereIn('id', db.select('training_id').from('training_participants').where('user_id', userId))
    .orderBy('createdAt')
    .withGraphFetched('participants(ordered)')
    .modifiers(ORDERED);
}

/** Inserts a training in state INITIAL with its first participants. */
export async function insertTraining(
  db: Knex,
  training: TrainingSpec,
  participantIds: readonly string[],
): Promise<Training> {
  const row = await Training.query(db).insert({ ...training, state: TrainingState.INITIAL });
  await addParticipants(db, row.id, participantIds);
  return row;
}

/** Adds participants; ones already registered stay as they are. */
export async function addParticipants(db: Knex, trainingId: string, userIds: readonly string[]): Promise<void> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) {
    return;
  }
  await db('training_participants')
    .insert(unique.map((userId) => ({ training_id: trainingId, user_id: userId })))
    .onConflict(['training_id', 'user_id'])
    .ignore();
}

/** Removes participants; returns the ids that really were participants. */
export async function removeParticipants(db: Knex, trainingId: string, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) {
    return [];
  }
  const rows: Array<{ userId: string }> = await db('training_participants')
    .where('training_id', trainingId)
    .whereIn('user_id', [...new Set(userIds)])
    .delete()
    .returning('user_id');
  return rows.map((row) => row.userId);
}

/** Deletes a training (its participants and upload slots go with it). */
export async function deleteTraining(db: Knex, id: string): Promise<void> {
  await Training.query(db).deleteById(id);
}

/** Sets a training's state, only if it is still in `from`; returns whether it changed. */
export async function transitionTraining(
  db: Knex,
  id: string,
  from: TrainingState,
  to: TrainingState,
  also: { workflowId?: string } = {},
): Promise<boolean> {
  const changed = await Training.query(db)
    .where({ id, state: from })
    .patch({ state: to, updatedAt: new Date(), ...also });
  return changed > 0;
}

const ORDERED = {
  ordered: (query: AnyQueryBuilder): void => {
    query.orderBy('users.username');
  },
};

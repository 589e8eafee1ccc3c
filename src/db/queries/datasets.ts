import type { Knex } from 'knex';
import { Dataset } from '../models/dataset';
import { TrainingState } from '../../training-states';

/** What an upload stores about a dataset (the id and creation time are the row's). */
export type NewDataset = Pick<
  Dataset,
  | 'ownerId'
  | 'name'
  | 'description'
  | 'rows'
  | 'xDtype'
  | 'xShape'
  | 'yDtype'
  | 'yShape'
  | 'shareWithParticipants'
  | 'blobDigest'
>;

/** The states of a training that still uses its evaluation dataset. */
const LIVE_STATES = [TrainingState.INITIAL, TrainingState.ONGOING, TrainingState.SWAG_ROUND];

/** Inserts a dataset. `db` is the knex instance or a transaction. */
export async function insertDataset(db: Knex, dataset: NewDataset): Promise<Dataset> {
  return await Dataset.query(db).insertAndFetch(dataset);
}

/** The dataset with `id`, if any. */
export async function findDatasetById(db: Knex, id: number): Promise<Dataset | undefined> {
  return await Dataset.query(db).findById(id);
}

/** The datasets `userId` owns and those named by trainings it acts in or takes part in, by id. */
export async function listDatasetsOfUser(db: Knex, userId: string): Promise<Dataset[]> {
  return await Dataset.query(db)
    .where('ownerId', userId)
    .orWhereRaw('datasets.id::text IN ?', [namedByTrainingsOf(db, userId)])
    .orderBy('id');
}

/** True when `userId` is the actor or a participant of a training that names dataset `id`. */
export async function takesPartWithDataset(db: Knex, id: number, userId: string): Promise<boolean> {
  const row: unknown = await namedByTrainingsOf(db, userId)
    .whereRaw(`trainings.options->>'evaluation_dataset' = ?`, [String(id)])
    .first();
  return row !== undefined;
}

/**
 * Dataset `id` if `ownerId` owns it, locked against deletion until the transaction ends: a training that names it is
 * inserted in the same transaction, so the dataset cannot go between the check and the insert.
 */
export async function lockOwnedDataset(
  trx: Knex.Transaction,
  id: number,
  ownerId: string,
): Promise<Dataset | undefined> {
  return await Dataset.query(trx).findOne({ id, ownerId }).forShare();
}

/**
 * Deletes dataset `id` unless a training in state I, O or S names it; the row is locked first, so a training that
 * names it cannot be created meanwhile. Its blob is left to the sweep.
 * @returns the ids of the trainings that still use it (empty when it was deleted).
 */
export async function deleteUnusedDataset(db: Knex, id: number): Promise<string[]> {
  return await db.transaction(async (trx) => {
    await Dataset.query(trx).findById(id).forUpdate();
    const users = await trx<{ id: string }>('trainings')
      .select('id')
      .whereRaw(`options->>'evaluation_dataset' = ?`, [String(id)])
      .whereIn('state', LIVE_STATES)
      .orderBy('createdAt');
    if (users.length === 0) {
      await Dataset.query(trx).deleteById(id);
    }
    return users.map((training) => training.id);
  });
}

/** `options.evaluation_dataset` of every training `userId` acts in or takes part in that names one, as text. */
function namedByTrainingsOf(db: Knex, userId: string): Knex.QueryBuilder {
  return db('trainings')
    .select(db.raw(`trainings.options->>'evaluation_dataset'`))
    .whereRaw(`trainings.options->>'evaluation_dataset' IS NOT NULL`)
    .where((q) => {
      q.where('trainings.actorId', userId).orWhereIn(
        'trainings.id',
        db('training_participants').select('trainingId').where('userId', userId),
      );
    });
}

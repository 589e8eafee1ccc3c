import type { Knex } from 'knex';
import { FlModel, type ManifestEntry, type ModelFormat, type ModelType } from '../models/model';
import { ModelVersion } from '../models/model-version';

/** The fields of a new global, SWAG or MEAN model. */
export interface NewGlobalModel {
  type: ModelType;
  ownerId: string;
  name: string;
  description: string;
  round: number;
  inputShape: Array<number | null> | null;
  preprocessingDigest: string | null;
  manifest: ManifestEntry[] | null;
  graphDigest: string | null;
  format: ModelFormat;
}

/** Stored weights: the blob digest and size of one round's bytes. */
export interface StoredWeights {
  digest: string;
  size: number;
}

/** The model with `id`, if any. `db` is the knex instance or a transaction, as in every query here. */
export async function findModelById(db: Knex, id: string): Promise<FlModel | undefined> {
  return await FlModel.query(db).findById(id);
}

/**
 * The models a user works with: the ones they own, plus the global model of every training where they are the actor
 * or a participant.
 */
export async function listModelsOfUser(db: Knex, userId: string): Promise<FlModel[]> {
  const trainingModels = db
    .select('model_id')
    .from('trainings')
    .where('actor_id', userId)
    .orWhereIn('id', db.select('training_id').from('training_participants').where('user_id', userId));
  return await FlModel.query(db)
    .where('ownerId', userId)
    .orWhereIn('id', trainingModels)
    .orderBy('createdAt')
    .withGraphFetched('members(byPosition)')
    .modifiers({
      byPosition: (query) => {
        query.orderBy('mean_model_members.position');
      },
    });
}

/** The global model of a training and the updates based on it; only `uploaderId`'s updates when given. */
export async function listModelsOfTraining(db: Knex, globalId: string, uploaderId?: string): Promise<FlModel[]> {
  const query = FlModel.query(db)
    .where('id', globalId)
    .orWhere((local) => {
      local.where('baseModelId', globalId);
      if (uploaderId !== undefined) {
        local.where('ownerId', uploaderId);
      }
    })
    .orderBy([{ column: 'type' }, { column: 'round' }, { column: 'createdAt' }]);
  return await query;
}

/** Inserts a global model and its first version (a MEAN model has members instead of weights). */
export async function insertGlobalModel(
  db: Knex,
  model: NewGlobalModel,
  weights: StoredWeights | undefined,
  memberIds: readonly string[] = [],
): Promise<FlModel> {
  return await db.transaction(async (trx) => {
    const row = await FlModel.query(trx).insert(model);
    if (weights) {
      await insertVersion(trx, row.id, model.round, weights);
    }
    if (memberIds.length > 0) {
      await trx('mean_model_members').insert(
        memberIds.map((memberId, position) => ({ mean_model_id: row.id, member_model_id: memberId, position })),
      );
    }
    return row;
  });
}

/** Records the weights of one round of a model. */
export async function insertVersion(db: Knex, modelId: string, round: number, weights: StoredWeights): Promise<void> {
  await ModelVersion.query(db).insert({ modelId, round, weightsDigest: weights.digest, weightsSize: weights.size });
}

/** The version of `round`, or the latest version when `round` is undefined. */
export async function findVersion(db: Knex, modelId: string, round?: number): Promise<ModelVersion | undefined> {
  const query = ModelVersion.query(db).where({ modelId });
  if (round !== undefined) {
    return await query.findOne({ round });
  }
  return await query.orderBy('round', 'desc').first();
}

/** Every version of a model, oldest first. */
export async function listVersions(db: Knex, modelId: string): Promise<ModelVersion[]> {
  return await ModelVersion.query(db).where({ modelId }).orderBy('round');
}

/** The ids of a MEAN model's members, in order. */
export async function listMemberIds(db: Knex, meanModelId: string): Promise<string[]> {
  const rows: Array<{ memberModelId: string }> = await db('mean_model_members')
    .where('mean_model_id', meanModelId)
    .orderBy('position')
    .select('member_model_id');
  return rows.map((row) => row.memberModelId);
}

/** The models among `ids` that exist, with their owners. */
export async function findModelsByIds(db: Knex, ids: readonly string[]): Promise<FlModel[]> {
  return ids.length === 0 ? [] : await FlModel.query(db).whereIn('id', [...new Set(ids)]);
}

/** Sets a global model's preprocessing graph. */
export async function setPreprocessing(db: Knex, modelId: string, digest: string): Promise<void> {
  await FlModel.query(db).patchAndFetchById(modelId, { preprocessingDigest: digest, updatedAt: new Date() });
}

/** Deletes a model; its versions, updates, training and the training's slots go with it. */
export async function deleteModel(db: Knex, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    // Metrics outlive a model only through its training; the others would be left belonging to nothing.
    await trx('metrics').where({ model_id: id }).whereNull('training_id').delete();
    await FlModel.query(trx).deleteById(id);
  });
}

/** The MEAN models that have `memberId` among their members. */
export async function listEnsemblesOf(db: Knex, memberId: string): Promise<string[]> {
  const rows: Array<{ meanModelId: string }> = await db('mean_model_members')
    .where({ member_model_id: memberId })
    .orderBy('mean_model_id')
    .select('mean_model_id');
  return rows.map((row) => row.meanModelId);
}

/**
 * Copies a global model (row, current round and that round's weights, preprocessing) under a new id, for a new
 * training of a model that already has one. MEAN members are not copied, as in the reference.
 */
export async function cloneModel(db: Knex, model: FlModel): Promise<FlModel> {
  const version = await findVersion(db, model.id, model.round);
  const copy = await FlModel.query(db).insert({
    type: model.type,
    ownerId: model.ownerId,
    name: model.name,
    description: model.description,
    round: model.round,
    inputShape: model.inputShape,
    preprocessingDigest: model.preprocessingDigest,
    manifest: model.manifest,
    graphDigest: model.graphDigest,
    format: model.format,
  });
  if (version) {
    await insertVersion(db, copy.id, version.round, {
      digest: version.weightsDigest,
      size: Number(version.weightsSize),
    });
  }
  return copy;
}

import type { Knex } from 'knex';
import { FlModel } from '../models/model';
import { ModelVersion } from '../models/model-version';
import { Training } from '../models/training';
import { TrainingState } from '../../training-states';
import { Upload, type UploadPhase } from '../models/upload';
import type { StoredWeights } from './models';

/**
 * Sets a training's state as its workflow records it; the error text is kept only for ERROR (and cleared
 * otherwise), as the table's CHECK requires. Writing the same state twice changes nothing. Returns whether the
 * training exists. `db` is the knex instance or a transaction.
 */
export async function recordState(
  db: Knex,
  trainingId: string,
  state: TrainingState,
  error: string | null,
): Promise<boolean> {
  const changed = await Training.query(db)
    .findById(trainingId)
    .patch({ state, error: state === TrainingState.ERROR ? error : null, updatedAt: new Date() });
  return changed > 0;
}

/** The uploads of one phase and round of a training from `clientIds` (fewer when some slots are empty). */
export async function findRoundUploads(
  db: Knex,
  trainingId: string,
  round: number,
  phase: UploadPhase,
  clientIds: readonly string[],
): Promise<Upload[]> {
  if (clientIds.length === 0) {
    return [];
  }
  return await Upload.query(db)
    .where({ trainingId, round, phase })
    .whereIn('clientId', [...clientIds]);
}

/**
 * Names a model's SWAG moments; a global model becomes a SWAG model (one with moments), as the reference's
 * SWAGModel is a global model with them. Writing the same digests again changes nothing.
 */
export async function recordSwagMoments(
  db: Knex,
  modelId: string,
  firstDigest: string,
  secondDigest: string,
): Promise<void> {
  await FlModel.query(db).findById(modelId).whereIn('type', ['GLOBAL', 'SWAG']).patch({
    type: 'SWAG',
    swagFirstMomentDigest: firstDigest,
    swagSecondMomentDigest: secondDigest,
    updatedAt: new Date(),
  });
}

/**
 * Records the aggregate of round `round` as the model's version `round + 1` and moves the model to that round, in
 * one transaction. A version already stored for that round (a retried aggregation) is kept, and the model's round
 * moves only if it is still `round`. Returns the weights and strategy-state digests stored for round `round + 1`.
 */
export async function recordAggregate(
  db: Knex,
  modelId: string,
  round: number,
  weights: StoredWeights,
  strategyStateDigest: string | null = null,
): Promise<{ weightsDigest: string; strategyStateDigest: string | null }> {
  return await db.transaction(async (trx) => {
    await trx('model_versions')
      .insert({
        model_id: modelId,
        round: round + 1,
        weights_digest: weights.digest,
        weights_size: weights.size,
        strategy_state_digest: strategyStateDigest,
      })
      .onConflict(['model_id', 'round'])
      .ignore();
    await FlModel.query(trx)
      .where({ id: modelId, round })
      .patch({ round: round + 1, updatedAt: new Date() });
    const stored = await ModelVersion.query(trx).findOne({ modelId, round: round + 1 });
    if (!stored) {
      // Only possible if the model itself is gone: the insert above either wrote the row or met an existing one.
      throw new Error(`Model ${modelId} has no version for round ${round + 1} after aggregation.`);
    }
    return { weightsDigest: stored.weightsDigest, strategyStateDigest: stored.strategyStateDigest };
  });
}

/**
 * Deletes the local models uploaded as updates in rounds up to `round` of a training: the round just aggregated,
 * and under FedDC the daisy-chained rounds before it (earlier rounds of other methods were deleted already). Their
 * upload slots stay filled (`uploads.model_id` is SET NULL) and their metrics stay (SET NULL too). Returns how many
 * were deleted.
 */
export async function deleteLocalModelsThrough(db: Knex, trainingId: string, round: number): Promise<number> {
  const uploaded = Upload.query(db)
    .select('modelId')
    .where({ trainingId, phase: 'update' })
    .where('round', '<=', round)
    .whereNotNull('modelId');
  return await FlModel.query(db).where('type', 'LOCAL').whereIn('id', uploaded).delete();
}

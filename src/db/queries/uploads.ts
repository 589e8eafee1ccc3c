import type { Knex } from 'knex';
import { FlModel, type ManifestEntry, type ModelFormat } from '../models/model';
import { Upload, type UploadPhase } from '../models/upload';
import { insertMetrics, type MetricTarget, type NewMetric } from './metrics';
import { insertVersion, type StoredWeights } from './models';
import type { RoundRange } from './rounds';

/** One upload slot: (training, round, client, phase). */
export interface Slot {
  trainingId: string;
  round: number;
  clientId: string;
  phase: UploadPhase;
}

/** What fills a slot. */
export interface SlotContent {
  contentDigest: string;
  modelId: string | null;
  blobDigest: string | null;
  secondBlobDigest: string | null;
  sampleSize: number | null;
}

/** The filled slot, if any. `db` is the knex instance or a transaction. */
export async function findUpload(db: Knex, slot: Slot): Promise<Upload | undefined> {
  return await Upload.query(db).findOne({ ...slot });
}

/** A client's upload of `phase` in the latest round up to `maxRound`, if any. */
export async function findLatestUpload(
  db: Knex,
  slot: Omit<Slot, 'round'>,
  maxRound: number,
): Promise<Upload | undefined> {
  return await Upload.query(db)
    .where({ ...slot })
    .where('round', '<=', maxRound)
    .orderBy('round', 'desc')
    .first();
}

/** Fills a slot; a slot filled meanwhile surfaces as a unique violation. */
export async function insertUpload(db: Knex, slot: Slot, content: SlotContent): Promise<Upload> {
  return await Upload.query(db).insert({ ...slot, ...content });
}

/** How many clients filled `phase` slots of a round. */
export async function countUploads(db: Knex, trainingId: string, round: number, phase: UploadPhase): Promise<number> {
  return await Upload.query(db).where({ trainingId, round, phase }).resultSize();
}

/** A participant's local model: what the update's model row and its version are made of. */
/** The uploads of a training's round and phase (the rounds view and the tasks of a round start read them). */
export async function listUploadsOfWait(
  db: Knex,
  trainingId: string,
  round: number,
  phase: UploadPhase,
): Promise<Upload[]> {
  return await Upload.query(db).where({ trainingId, round, phase }).orderBy('createdAt');
}

/** A training's uploads, oldest first; only those of `rounds` when given. */
export async function listUploadsOfTraining(db: Knex, trainingId: string, rounds?: RoundRange): Promise<Upload[]> {
  const query = Upload.query(db).where({ trainingId }).orderBy('createdAt');
  return await (rounds === undefined ? query : query.whereBetween('round', [rounds.from, rounds.to]));
}

export interface LocalUpdate {
  baseModelId: string;
  ownerId: string;
  sampleSize: number;
  manifest: ManifestEntry[];
  graphDigest: string;
  format: ModelFormat;
  weights: StoredWeights;
}

/**
 * Fills an update slot in one transaction: the local model row, its weights version at the slot's round, the slot
 * itself, and the metrics that came with the update (tied to the slot, so they go if it is given back).
 */
export async function insertUpdateUpload(
  knex: Knex,
  slot: Slot,
  contentDigest: string,
  update: LocalUpdate,
  metrics: readonly NewMetric[],
): Promise<Upload> {
  return await knex.transaction(async (trx) => {
    const local = await FlModel.query(trx).insert({
      type: 'LOCAL',
      ownerId: update.ownerId,
      baseModelId: update.baseModelId,
      round: slot.round,
      sampleSize: update.sampleSize,
      manifest: update.manifest,
      graphDigest: update.graphDigest,
      format: update.format,
    });
    await insertVersion(trx, local.id, slot.round, update.weights);
    const upload = await insertUpload(trx, slot, {
      contentDigest,
      modelId: local.id,
      blobDigest: update.weights.digest,
      secondBlobDigest: null,
      sampleSize: update.sampleSize,
    });
    const target = { modelId: local.id, trainingId: slot.trainingId, step: slot.round, reporterId: slot.clientId };
    await insertMetrics(trx, { ...target, uploadId: upload.id }, metrics);
    return upload;
  });
}

/** Fills a test slot with the model-test metrics of the global model `modelId`, in one transaction. */
export async function insertTestUpload(
  knex: Knex,
  slot: Slot,
  contentDigest: string,
  modelId: string,
  metrics: readonly NewMetric[],
): Promise<Upload> {
  return await knex.transaction(async (trx) => {
    const upload = await insertUpload(trx, slot, {
      contentDigest,
      modelId: null,
      blobDigest: null,
      secondBlobDigest: null,
      sampleSize: null,
    });
    const target: MetricTarget = { modelId, trainingId: slot.trainingId, step: slot.round, reporterId: slot.clientId };
    await insertMetrics(trx, { ...target, uploadId: upload.id }, metrics);
    return upload;
  });
}

/**
 * Gives a refused upload's slot back: deletes the slot and its local model in one transaction (the metrics that came
 * with it go through the foreign key's cascade, its blob with the next sweep).
 */
export async function deleteUpload(knex: Knex, upload: Upload): Promise<void> {
  await knex.transaction(async (trx) => {
    await Upload.query(trx).deleteById(upload.id);
    if (upload.modelId) {
      await FlModel.query(trx).deleteById(upload.modelId);
    }
  });
}

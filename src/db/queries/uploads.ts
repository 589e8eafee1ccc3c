import type { Knex } from 'knex';
import { Upload, type UploadPhase } from '../models/upload';

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

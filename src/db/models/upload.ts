import { Model } from 'objection';

/** Upload phases; a slot is (training, round, client, phase). */
export const UploadPhase = { UPDATE: 'update', TEST: 'test', SWAG: 'swag' } as const;
export type UploadPhase = (typeof UploadPhase)[keyof typeof UploadPhase];

/** A filled upload slot: what one client sent for one round and phase of a training. */
export class Upload extends Model {
  static override tableName = 'uploads';

  id!: string;
  trainingId!: string;
  round!: number;
  clientId!: string;
  phase!: UploadPhase;
  contentDigest!: string;
  modelId!: string | null;
  blobDigest!: string | null;
  secondBlobDigest!: string | null;
  /** The sample size an update or SWAG upload was weighted with; null for test metrics. */
  sampleSize!: number | null;
  createdAt!: Date;
}

import { Model } from 'objection';
import type { DatasetDtype } from '../../datasets/dtypes';

/**
 * A server-held dataset: inputs `x` and targets `y`, one row each per example, stored as one safetensors blob in the
 * dtypes they were uploaded in. Only its owner may name it as a training's `evaluation_dataset`.
 */
export class Dataset extends Model {
  static override tableName = 'datasets';
  static override jsonAttributes = ['xShape', 'yShape'];

  id!: number;
  ownerId!: string;
  name!: string;
  description!: string;
  rows!: number;
  xDtype!: DatasetDtype;
  /** The full shape, rows first. */
  xShape!: number[];
  yDtype!: DatasetDtype;
  yShape!: number[];
  /** Whether participants (and the actor) of a training that names it may read its rows. */
  shareWithParticipants!: boolean;
  blobDigest!: string;
  createdAt!: Date;
}

import { Model } from 'objection';

/** The server's evaluation of one version of a training's global model: done (figures in `metrics`) or failed. */
export class Evaluation extends Model {
  static override tableName = 'evaluations';

  id!: string;
  trainingId!: string;
  round!: number;
  state!: 'done' | 'failed';
  error!: string | null;
  rows!: number | null;
  durationMs!: number | null;
  createdAt!: Date;
}

import { Model } from 'objection';

/**
 * One round of a training, made when the round asks for its updates: its id is an integer unique across trainings
 * (the seed-004 protocol's round id). What happened in it is read from its tasks, uploads, metrics and versions.
 */
export class Round extends Model {
  static override tableName = 'rounds';

  id!: string;
  trainingId!: string;
  number!: number;
  startedAt!: Date;
  deadline!: Date | null;
}

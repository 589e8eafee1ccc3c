import { Model, type RelationMappings } from 'objection';
import type { AggregationMethod } from '../../aggregation/strategies/registry';
import type { TrainingState } from '../../training-states';
import { FlModel } from './model';
import { User } from './user';

/**
 * What a training is made of, as created and as its run reads it: the global model, the actor, the target number
 * of aggregations, the methods and the options. (The id, state and timestamps are the row's.)
 */
export type TrainingSpec = Pick<
  Training,
  'modelId' | 'actorId' | 'targetNumUpdates' | 'aggregationMethod' | 'uncertaintyMethod' | 'options'
> & { groupId?: number | null };

/** A federated training of one global model by its participants, run by one workflow. */
export class Training extends Model {
  static override tableName = 'trainings';
  static override jsonAttributes = ['options'];

  id!: string;
  state!: TrainingState;
  targetNumUpdates!: number;
  aggregationMethod!: AggregationMethod;
  uncertaintyMethod!: string;
  options!: Record<string, unknown>;
  actorId!: string;
  modelId!: string;
  /** The group whose members may join the training themselves (`POST /api/trainings/{id}/join/`), if any. */
  groupId!: number | null;
  workflowId!: string | null;
  error!: string | null;
  createdAt!: Date;
  updatedAt!: Date;

  actor?: User;
  model?: FlModel;
  participants?: User[];

  // knexSnakeCaseMappers renames identifiers in every query, so relation joins name columns in camelCase.
  static override relationMappings = (): RelationMappings => ({
    actor: {
      relation: Model.BelongsToOneRelation,
      modelClass: User,
      join: { from: 'trainings.actorId', to: 'users.id' },
    },
    model: {
      relation: Model.BelongsToOneRelation,
      modelClass: FlModel,
      join: { from: 'trainings.modelId', to: 'models.id' },
    },
    participants: {
      relation: Model.ManyToManyRelation,
      modelClass: User,
      join: {
        from: 'trainings.id',
        through: { from: 'training_participants.trainingId', to: 'training_participants.userId' },
        to: 'users.id',
      },
    },
  });
}

import { Model, type RelationMappings } from 'objection';
import { ModelVersion } from './model-version';
import { User } from './user';

/** Model kinds: a training's global model, a client's update, a SWAG model, an ensemble of global models. */
export const ModelType = { GLOBAL: 'GLOBAL', LOCAL: 'LOCAL', SWAG: 'SWAG', MEAN: 'MEAN' } as const;
export type ModelType = (typeof ModelType)[keyof typeof ModelType];

/** What a model's weights are: ONNX, or a PyTorch archive (TorchScript or a state dict; docs/pytorch.md). */
export const ModelFormat = { ONNX: 'onnx', TORCHSCRIPT: 'torchscript', TORCH_STATE_DICT: 'torch_state_dict' } as const;
export type ModelFormat = (typeof ModelFormat)[keyof typeof ModelFormat];

/** One entry of a model's manifest: an initializer in graph order. */
export interface ManifestEntry {
  name: string;
  dtype: string;
  shape: number[];
}

/** An ONNX model's metadata; its bytes live in the blob store, one version per round. */
export class FlModel extends Model {
  static override tableName = 'models';
  static override jsonAttributes = ['inputShape', 'manifest'];

  id!: string;
  type!: ModelType;
  ownerId!: string;
  name!: string;
  description!: string;
  round!: number;
  baseModelId!: string | null;
  inputShape!: Array<number | null> | null;
  preprocessingDigest!: string | null;
  manifest!: ManifestEntry[] | null;
  graphDigest!: string | null;
  format!: ModelFormat;
  sampleSize!: number | null;
  swagFirstMomentDigest!: string | null;
  swagSecondMomentDigest!: string | null;
  createdAt!: Date;
  updatedAt!: Date;

  owner?: User;
  versions?: ModelVersion[];
  members?: FlModel[];

  // knexSnakeCaseMappers renames identifiers in every query, so relation joins name columns in camelCase.
  static override relationMappings = (): RelationMappings => ({
    owner: {
      relation: Model.BelongsToOneRelation,
      modelClass: User,
      join: { from: 'models.ownerId', to: 'users.id' },
    },
    versions: {
      relation: Model.HasManyRelation,
      modelClass: ModelVersion,
      join: { from: 'models.id', to: 'model_versions.modelId' },
    },
    members: {
      relation: Model.ManyToManyRelation,
      modelClass: FlModel,
      join: {
        from: 'models.id',
        through: { from: 'mean_model_members.meanModelId', to: 'mean_model_members.memberModelId' },
        to: 'models.id',
      },
    },
  });
}

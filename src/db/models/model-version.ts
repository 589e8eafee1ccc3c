import { Model } from 'objection';

/** The weights of one model at one round, by blob digest. */
export class ModelVersion extends Model {
  static override tableName = 'model_versions';

  id!: string;
  modelId!: string;
  round!: number;
  weightsDigest!: string;
  /** bigint columns arrive as strings from pg; see `weightsSizeBytes`. */
  weightsSize!: string | number;
  /** The stateful strategy's state after this version's aggregation (FedAvgM, FedOpt); null otherwise. */
  strategyStateDigest!: string | null;
  createdAt!: Date;
}

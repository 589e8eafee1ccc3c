import { Model } from 'objection';

/** A reported number or binary value (with its content type) for a model, at a step (the model's round). */
export class Metric extends Model {
  static override tableName = 'metrics';

  id!: string;
  modelId!: string | null;
  trainingId!: string | null;
  key!: string;
  valueFloat!: number | null;
  valueBinary!: Buffer | null;
  contentType!: string | null;
  step!: number | null;
  reporterId!: string | null;
  identifier!: string | null;
  /** The upload the metric came with (an update or a model test); its refusal deletes the metric too. */
  uploadId!: string | null;
  createdAt!: Date;
}

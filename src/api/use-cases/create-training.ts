import type { Knex } from 'knex';
import type { AggregationMethod } from '../../aggregation/strategies/registry';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { cloneModel, findModelById } from '../../db/queries/models';
import { findTrainingOfModel, insertTraining } from '../../db/queries/trainings';
import { countExistingUsers } from '../../db/queries/users';
import { fieldInvalid, invalidInput, notFound, onnxRequired } from '../../errors';
import { lockOwnedDataset } from '../../db/queries/datasets';
import { isGroupMember } from '../../db/queries/groups';
import { forbidden, NO_PERMISSION } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import { checkDatasetFits, modelInputDims } from './evaluation-fit';

/** A new training as the actor asks for it. */
export interface NewTrainingInput {
  readonly model_id: string;
  readonly target_num_updates: number;
  readonly aggregation_method: AggregationMethod;
  readonly uncertainty_method: string;
  readonly options: Record<string, unknown>;
  readonly clients: readonly string[];
  /** A group the actor belongs to, whose members may join; null for none. */
  readonly group: number | null;
}

/**
 * `POST /api/trainings/`: a training of a global model the caller owns, in state INITIAL; `options.evaluation_dataset`
 * must name a dataset the caller owns whose rows fit the model's input. Every check runs before anything is written; a model that already has a
 * training is copied (current round and weights) inside the same transaction, so a refused request leaves no orphan
 * copy.
 */
export async function createTraining(
  { knex, blobs }: { knex: Knex; blobs: BlobStore },
  user: User,
  request: NewTrainingInput,
): Promise<Training> {
  const model = await findModelById(knex, request.model_id);
  if (!model) {
    throw notFound(`Model ${request.model_id} not found.`);
  }
  if (model.ownerId !== user.id) {
    throw forbidden(NO_PERMISSION);
  }
  if (model.type === 'LOCAL' || model.type === 'MEAN') {
    throw invalidInput(`Model ${model.id} is a ${model.type} model; only global and SWAG models can be trained.`);
  }
  if (request.group !== null && !user.isSuperuser && !(await isGroupMember(knex, request.group, user.id))) {
    // A group the actor is not in is one it cannot open a training to: answered as if it did not exist.
    throw fieldInvalid('group', `Group ${request.group} not found.`);
  }
  const clients = [...new Set(request.clients.map((id) => id.toLowerCase()))];
  if ((await countExistingUsers(knex, clients)) !== clients.length) {
    throw invalidInput('Not all provided users were found!');
  }
  const datasetId = request.options.evaluation_dataset;
  if (typeof datasetId === 'number' && model.format !== 'onnx') {
    throw onnxRequired('options.evaluation_dataset: server-side evaluation');
  }
  const inputDims = typeof datasetId === 'number' ? await modelInputDims(knex, blobs, model) : undefined;
  return await knex.transaction(async (trx) => {
    if (typeof datasetId === 'number') {
      // Locked until the training is in, so the dataset cannot be deleted between this check and the insert.
      const dataset = await lockOwnedDataset(trx, datasetId, user.id);
      if (!dataset) {
        throw fieldInvalid('options.evaluation_dataset', `Dataset ${datasetId} not found.`);
      }
      checkDatasetFits(dataset, inputDims);
    }
    const trained = (await findTrainingOfModel(trx, model.id)) ? await cloneModel(trx, model) : model;
    return await insertTraining(
      trx,
      {
        modelId: trained.id,
        actorId: user.id,
        targetNumUpdates: request.target_num_updates,
        aggregationMethod: request.aggregation_method,
        uncertaintyMethod: request.uncertainty_method,
        options: request.options,
        groupId: request.group,
      },
      clients,
    );
  });
}

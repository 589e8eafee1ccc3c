import type { Knex } from 'knex';
import type { FlModel } from '../../db/models/model';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { findModelById, findModelsByIds, findVersion, listMemberIds } from '../../db/queries/models';
import { wasAssignedModel } from '../../db/queries/notifications';
import { findTrainingOfModel } from '../../db/queries/trainings';
import { forbidden, invalidInput } from '../../errors';
import type { InferenceTarget } from '../../inference/plan';
import type { Changes } from '../cache/change-feed';
import { type Loaded, LookupCache } from '../cache/lookup-cache';
import { relationsOf } from './model-access';

/**
 * What an inference request needs to know of a model, read once and answered from a cache while nothing it was read
 * from changes: the model, its global model (a local update's base), the training and who takes part in it, whether
 * every model to run is ONNX, and the weights to run.
 */
export interface InferenceModel {
  readonly model: FlModel;
  /** The global model: the model itself, or a local update's base model (undefined when that base is gone). */
  readonly global: FlModel | undefined;
  /** The global model's training, without its participants (`participantIds` has them). */
  readonly training: Omit<Training, 'participants'> | undefined;
  readonly participantIds: ReadonlySet<string>;
  /** Every model to run is ONNX (onnxruntime runs nothing else). */
  readonly onnx: boolean;
  /** The weights to run, or why there are none to run (checked after the caller may read the model). */
  readonly target: InferenceTarget | { readonly error: string };
}

/** Models for inference, cached when `changes` can vouch for them; read from the database each time otherwise. */
export class InferenceModels {
  private readonly cache: LookupCache<InferenceModel> | undefined;

  constructor(
    private readonly knex: Knex,
    changes: Changes | undefined,
  ) {
    this.cache = changes && new LookupCache('inference_models', changes, { maxEntries: 1_000, maxAgeMs: 60_000 });
  }

  /**
   * The model with `id` as `user` may run or read it (docs/api.md#who-may-read-a-model).
   * @throws `missing("Model … not found.")` when it does not exist or the user has no relation to it (400 by
   * default, as the reference's inference; its downloads answer 404), 403 for a participant reading another
   * participant's update FedDC did not assign them.
   */
  async readable(user: User, id: string, missing: (detail: string) => Error = invalidInput): Promise<InferenceModel> {
    const load = (): Promise<Loaded<InferenceModel> | undefined> => loadInferenceModel(this.knex, id);
    // One entry per model, however the caller spelled its id.
    const found = this.cache ? await this.cache.get(id.toLowerCase(), load) : (await load())?.value;
    if (!found) {
      throw missing(`Model ${id} not found.`);
    }
    const relations = relationsOf(user, found.model, found.training, found.participantIds);
    if (relations.size === 0) {
      throw missing(`Model ${id} not found.`);
    }
    if (relations.size === 1 && relations.has('fellow')) {
      // Rare (FedDC's assignments), and a notification table no cache follows: read each time.
      const assigned = found.training && (await wasAssignedModel(this.knex, found.training.id, user.id, id));
      if (!assigned) {
        throw forbidden();
      }
    }
    return found;
  }
}

/** Reads everything `InferenceModel` holds, with the change keys it was read from. */
async function loadInferenceModel(knex: Knex, id: string): Promise<Loaded<InferenceModel> | undefined> {
  const model = await findModelById(knex, id);
  if (!model) {
    return undefined;
  }
  const global = model.type === 'LOCAL' && model.baseModelId ? await findModelById(knex, model.baseModelId) : model;
  const found = await findTrainingOfModel(knex, model.baseModelId ?? model.id);
  const { participants, ...training } = found ?? {};
  const memberIds = model.type === 'MEAN' ? await listMemberIds(knex, model.id) : [];
  const members = await findModelsByIds(knex, memberIds);
  const onnx = [model, ...members].every((candidate) => candidate.format === 'onnx');
  const target = await inferenceTarget(knex, model, memberIds, global?.preprocessingDigest ?? null);
  return {
    value: {
      model,
      global,
      training: found && (training as Omit<Training, 'participants'>),
      participantIds: new Set((participants ?? []).map((p) => p.id)),
      onnx,
      target,
    },
    dependsOn: [
      `model:${model.id}`,
      ...(model.baseModelId ? [`model:${model.baseModelId}`] : []),
      ...memberIds.map((member) => `model:${member}`),
      ...(found ? [`training:${found.id}`] : []),
    ],
  };
}

async function inferenceTarget(
  knex: Knex,
  model: FlModel,
  members: readonly string[],
  preprocessingDigest: string | null,
): Promise<InferenceTarget | { error: string }> {
  const version = await findVersion(knex, model.id);
  const memberDigests: string[] = [];
  for (const id of members) {
    const memberVersion = await findVersion(knex, id);
    if (!memberVersion) {
      return { error: `Member ${id} of MEAN model ${model.id} has no weights.` };
    }
    memberDigests.push(memberVersion.weightsDigest);
  }
  // The moments describe the SWAG model's own weights: a local update has none.
  const moments =
    model.swagFirstMomentDigest && model.swagSecondMomentDigest
      ? { first: model.swagFirstMomentDigest, second: model.swagSecondMomentDigest }
      : undefined;
  return {
    modelId: model.id,
    type: model.type,
    weightsDigest: version?.weightsDigest,
    memberDigests,
    preprocessingDigest,
    swagMoments: moments,
  };
}

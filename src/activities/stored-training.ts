import type { Knex } from 'knex';
import { TrainingActivityErrorCode } from '../error-reasons';
import type { ModelVersion } from '../db/models/model-version';
import type { Training } from '../db/models/training';
import { findVersion } from '../db/queries/models';
import { findTrainingById } from '../db/queries/trainings';
import { permanentFailure, trainingNotFound } from './activity-failures';

/** The training an activity works on. @throws a non-retryable `training_not_found` (it was deleted meanwhile). */
export async function requireTraining(knex: Knex, trainingId: string): Promise<Training> {
  const training = await findTrainingById(knex, trainingId);
  if (!training) {
    throw trainingNotFound(trainingId);
  }
  return training;
}

/** Version `round` of a model. @throws a non-retryable `model_version_not_found`. */
export async function requireVersion(knex: Knex, modelId: string, round: number): Promise<ModelVersion> {
  const version = await findVersion(knex, modelId, round);
  if (!version) {
    throw permanentFailure(
      TrainingActivityErrorCode.MODEL_VERSION_NOT_FOUND,
      `Model ${modelId} has no version for round ${round}.`,
    );
  }
  return version;
}

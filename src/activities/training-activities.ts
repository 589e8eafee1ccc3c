import type { Knex } from 'knex';
import { findModelById } from '../db/queries/models';
import { recordState } from '../db/queries/training-runs';
import { removeParticipants } from '../db/queries/trainings';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import { closeWaitTasks, endPendingTasks } from '../db/queries/tasks';
import { TrainingState } from '../training-states';
import { trainingNotFound } from './activity-failures';
import { advanceRound, aggregateRound } from './aggregate-round';
import { aggregateSwag } from './aggregate-swag';
import { evaluateVersion } from './evaluate-version';
import { requireTraining } from './stored-training';
import type { TrainingActivities } from './training-activity-types';
import { settingsOf } from './training-settings';

/** The training activities except notifications (`createNotificationActivities` has those). */
export type TrainingRunActivities = Omit<TrainingActivities, 'sendNotifications'>;

/**
 * The training workflow's activities over the database and the blob store: its settings, its recorded state, its
 * participants and the aggregation of each round. Each one is safe to retry.
 */
export function createTrainingActivities(deps: {
  knex: Knex;
  blobs: BlobStore;
  logger: Logger;
  /** Where the runs put their heavy activities (`ActivityDeps.aggregationTaskQueue`). */
  aggregationTaskQueue?: string | undefined;
}): TrainingRunActivities {
  const { knex, logger } = deps;
  // Every line an activity logs is about one training: its logger says which.
  const forTraining = (trainingId: string) => ({ ...deps, logger: logger.child({ trainingId }) });
  return {
    async loadTrainingSettings(trainingId) {
      const training = await requireTraining(knex, trainingId);
      const model = await findModelById(knex, training.modelId);
      if (!model) {
        throw trainingNotFound(trainingId);
      }
      const participantIds = (training.participants ?? []).map((user) => user.id);
      const settings = settingsOf(training, participantIds, model.round);
      const queue = deps.aggregationTaskQueue;
      return queue === undefined ? settings : { ...settings, aggregationTaskQueue: queue };
    },

    async recordTrainingState({ trainingId, state, error }) {
      if (!(await recordState(knex, trainingId, state, error ?? null))) {
        throw trainingNotFound(trainingId);
      }
      if (state === TrainingState.COMPLETED || state === TrainingState.ERROR) {
        await endPendingTasks(knex, trainingId);
      }
    },

    closeRoundTasks: (input) => closeWaitTasks(knex, input),

    async removeParticipant({ trainingId, clientId, reason }) {
      const removed = await removeParticipants(knex, trainingId, [clientId]);
      if (removed.length > 0) {
        forTraining(trainingId).logger.info('participant removed', { clientId, reason });
      }
    },

    aggregateRound: (input) => aggregateRound(forTraining(input.trainingId), input),

    advanceRound: (input) => advanceRound(deps, input),

    aggregateSwag: (input) => aggregateSwag(forTraining(input.trainingId), input),

    evaluateVersion: (input) => evaluateVersion(forTraining(input.trainingId), input),
  };
}

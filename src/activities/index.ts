import type { Knex } from 'knex';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import { createNotificationActivities, type DeliverySettings } from './notification-activities';
import { createTrainingActivities } from './training-activities';
import type { TrainingActivities } from './training-activity-types';

/** What activities get from the worker's entry point. */
export interface ActivityDeps {
  knex: Knex;
  blobs: BlobStore;
  logger: Logger;
  /** How notifications are pushed; `DEFAULT_DELIVERY` when left out. */
  delivery?: DeliverySettings;
  /**
   * The task queue new training runs put their aggregations and evaluations on; left out, the training's own. Some
   * worker must poll it (`roundhouse worker` does by default).
   */
  aggregationTaskQueue?: string;
}

/** Pushes with a 10 s timeout, three attempts from 1 s apart, 16 at once, and no private addresses. */
export const DEFAULT_DELIVERY: Readonly<DeliverySettings> = Object.freeze({
  timeoutMs: 10_000,
  attempts: 3,
  backoffMs: 1_000,
  concurrency: 16,
  allowPrivateAddresses: false,
});

/**
 * Builds the activities object the worker registers: each group of activities is a factory over the same deps.
 * Together they implement every activity the training workflow calls.
 */
export function createActivities(deps: ActivityDeps): TrainingActivities {
  const { knex, blobs, logger } = deps;
  return {
    ...createTrainingActivities({ knex, blobs, logger, aggregationTaskQueue: deps.aggregationTaskQueue }),
    ...createNotificationActivities({ knex, logger, delivery: deps.delivery ?? DEFAULT_DELIVERY }),
  };
}

/** The activities' type, for `proxyActivities<Activities>()` in workflow code (type-only import). */
export type Activities = ReturnType<typeof createActivities>;

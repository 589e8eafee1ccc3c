import type { Knex } from 'knex';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';

/** What activities get from the worker's entry point. */
export interface ActivityDeps {
  knex: Knex;
  blobs: BlobStore;
  logger: Logger;
}

/**
 * Builds the activities object the worker registers. Each group of activities is a factory over the same deps; the
 * training issue adds the first groups (loading settings, notifications, aggregation).
 */
export function createActivities(_deps: ActivityDeps): Record<string, (...args: never[]) => Promise<unknown>> {
  return {};
}

/** The activities' type, for `proxyActivities<Activities>()` in workflow code (type-only import). */
export type Activities = ReturnType<typeof createActivities>;

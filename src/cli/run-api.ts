import { startApiServer } from '../api/server';
import type { Config } from '../config';
import type { Logger } from '../logger';
import {
  connectClientToTemporal,
  connectDatabase,
  dashboardSettings,
  inferencePool,
  openBlobStore,
  readinessChecks,
  startListening,
  trainingOrchestrator,
} from './infrastructure';
import { startRoleMetrics } from './metrics-port';
import { stopAll, waitForShutdownSignal } from './shutdown';

/** `roundhouse api`: the HTTP API alone, for as many replicas as the load needs. */
export async function runApiRole(config: Config, logger: Logger): Promise<void> {
  const knex = connectDatabase(config);
  const connection = connectClientToTemporal(config);
  const blobs = openBlobStore(config, knex);
  const inference = inferencePool(config, blobs);
  const { tasks, changes } = await startListening(config, logger);
  const api = await startApiServer(
    {
      logger,
      readinessChecks: readinessChecks(config, knex, connection),
      knex,
      blobs,
      limits: config.limits,
      orchestrator: trainingOrchestrator(config, knex, connection),
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
  logger.info('API listening', { url: `${api.url}/api/` });
  const metrics = await startRoleMetrics(config, 'api', logger);
  await waitForShutdownSignal(logger);
  await stopAll(logger, [
    ['metrics', async () => metrics?.close()],
    ['api', () => api.close()],
    ['inference', () => inference.close()],
    ['task wake-ups', () => tasks.close()],
    ['cache invalidation', () => changes.close()],
    ['temporal client', () => connection.close()],
    ['database', () => knex.destroy()],
  ]);
}

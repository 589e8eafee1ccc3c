import type { Worker } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { installTemporalRuntime } from '../logging/temporal-runtime';
import { createAggregationWorker, createWorker } from '../worker';
import type { ActivityDeps } from '../activities';
import { connectDatabase, connectWorkerToTemporal, deliverySettings, openBlobStore } from './infrastructure';
import { startRoleMetrics, temporalMetricsAddress } from './metrics-port';
import { stopAll, waitForShutdownSignal } from './shutdown';

/**
 * `roundhouse worker`: Temporal workers on the configured task queues (`ROUNDHOUSE_WORKER_QUEUES`): the training
 * queue (workflows and their light activities) and the aggregation queue (aggregations and evaluations, a few at
 * a time), both by default. Run as many as the trainings need; aggregation-only workers add aggregation capacity.
 */
export async function runWorkerRole(config: Config, logger: Logger): Promise<void> {
  const temporalAddress = await temporalMetricsAddress(config);
  installTemporalRuntime(logger, config.log.level, temporalAddress);
  const knex = connectDatabase(config);
  const connection = await connectWorkerToTemporal(config, logger);
  const workers = await createWorkers(config, {
    connection,
    deps: {
      knex,
      blobs: openBlobStore(config, knex),
      logger,
      delivery: deliverySettings(config, 'worker'),
      aggregationTaskQueue: config.temporal.aggregationTaskQueue,
    },
    queues: config.worker.queues,
  });
  const runs = workers.map(({ worker }) => worker.run());
  logger.info('worker polling', {
    taskQueues: workers.map(({ taskQueue }) => taskQueue),
    address: config.temporal.address,
  });
  const metrics = await startRoleMetrics(config, 'worker', logger, temporalAddress);
  // A signal, or one worker stopping (a fatal error): either way every worker stops.
  await Promise.race([waitForShutdownSignal(logger), ...runs]);
  await stopAll(logger, [
    ['metrics', async () => metrics?.close()],
    ...workers.map(({ name, worker }, i): [string, () => Promise<void>] => [
      name,
      async () => {
        if (worker.getState() === 'RUNNING') {
          worker.shutdown();
        }
        await runs[i];
      },
    ]),
    ['temporal connection', () => connection.close()],
    ['database', () => knex.destroy()],
  ]);
}

/** The workers of the queues named: a workflow worker on the training queue, an activity worker on the other. */
export async function createWorkers(
  config: Config,
  options: {
    connection: Parameters<typeof createWorker>[0]['connection'];
    deps: ActivityDeps;
    queues: readonly ('training' | 'aggregation')[];
  },
): Promise<{ name: string; taskQueue: string; worker: Worker }[]> {
  const { namespace, taskQueue, aggregationTaskQueue } = config.temporal;
  const { connection, deps } = options;
  const workers: { name: string; taskQueue: string; worker: Worker }[] = [];
  if (options.queues.includes('training')) {
    workers.push({
      name: 'training worker',
      taskQueue,
      worker: await createWorker({ connection, namespace, taskQueue }, deps),
    });
  }
  if (options.queues.includes('aggregation')) {
    const concurrency = config.worker.aggregationConcurrency;
    workers.push({
      name: 'aggregation worker',
      taskQueue: aggregationTaskQueue,
      worker: await createAggregationWorker(
        { connection, namespace, taskQueue: aggregationTaskQueue, concurrency },
        deps,
      ),
    });
  }
  return workers;
}

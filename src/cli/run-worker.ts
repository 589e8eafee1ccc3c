import type { Config } from '../config';
import type { Logger } from '../logger';
import { installTemporalRuntime } from '../logging/temporal-runtime';
import { createWorker } from '../worker';
import { connectDatabase, connectWorkerToTemporal, deliverySettings, openBlobStore } from './infrastructure';
import { stopAll, waitForShutdownSignal } from './shutdown';

/** `roundhouse worker`: one Temporal worker on the configured task queue; run as many as the trainings need. */
export async function runWorkerRole(config: Config, logger: Logger): Promise<void> {
  installTemporalRuntime(logger, config.log.level);
  const knex = connectDatabase(config);
  const connection = await connectWorkerToTemporal(config, logger);
  const worker = await createWorker(
    { connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue },
    { knex, blobs: openBlobStore(config, knex), logger, delivery: deliverySettings(config, 'worker') },
  );
  const running = worker.run();
  logger.info('worker polling', { taskQueue: config.temporal.taskQueue, address: config.temporal.address });
  const stoppedBy = await Promise.race([waitForShutdownSignal(logger), running.then(() => 'worker-exit' as const)]);
  await stopAll(logger, [
    [
      'worker',
      async () => {
        if (stoppedBy !== 'worker-exit') {
          worker.shutdown();
        }
        await running;
      },
    ],
    ['temporal connection', () => connection.close()],
    ['database', () => knex.destroy()],
  ]);
}

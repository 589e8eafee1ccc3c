// Run with tsx by the aggregation worker test: an aggregation-only worker as `roundhouse worker` with
// ROUNDHOUSE_WORKER_QUEUES=aggregation runs it (one activity at a time), except that its first aggregation waits, up
// to 20 s, until another worker process has started one: with every slot of this one taken, the other aggregation
// of the moment must go to the other worker. Processes meet through marker files in RENDEZVOUS_DIR.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { TrainingActivities } from '../../src/activities/training-activity-types';
import { connectDatabase, connectWorkerToTemporal, openBlobStore } from '../../src/cli/infrastructure';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

async function main(): Promise<void> {
  const dir = process.env.RENDEZVOUS_DIR;
  if (dir === undefined || !existsSync(dir)) {
    throw new Error('RENDEZVOUS_DIR must name an existing folder');
  }
  const config = loadConfig();
  const logger = createLogger('error');
  const knex = connectDatabase(config);
  const connection = await connectWorkerToTemporal(config, logger);
  const real = createActivities({ knex, blobs: openBlobStore(config, knex), logger });
  let first = true;
  const activities: TrainingActivities = {
    ...real,
    aggregateRound: async (input) => {
      if (first) {
        first = false;
        writeFileSync(path.join(dir, `started-${process.pid}`), '');
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && !readdirSync(dir).some((name) => name !== `started-${process.pid}`)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      return await real.aggregateRound(input);
    },
  };
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.aggregationTaskQueue,
    activities,
    maxConcurrentActivityTaskExecutions: 1,
    identity: `aggregation-worker-${process.pid}`,
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('aggregation worker polling\n');
  await running;
  await connection.close();
  await knex.destroy();
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});

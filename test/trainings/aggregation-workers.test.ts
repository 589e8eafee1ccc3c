import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startScript, stopRole } from '../support/role-process';
import { testEnv } from '../support/test-env';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import {
  createTraining,
  createTrainingApi,
  createTrainingWorker,
  downloadVersion,
  expectedVersions,
  registerClients,
  startTraining,
} from '../support/training-scenario';

/**
 * Aggregations and evaluations on a task queue of their own: workers that poll only it take them, one at a time
 * each, so adding such workers adds aggregation capacity. (A workflow worker runs its own workflows' activities
 * first when they share its queue, so extra workers there never got any.)
 */
describe('aggregation workers', () => {
  let temporal: TestTemporal;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when two trainings aggregate at once, two aggregation worker processes each take one and the workflow worker none', async () => {
    const taskQueue = uniqueTaskQueue('aggregation-queue');
    const aggregationQueue = `${taskQueue}-aggregation`;
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const rendezvous = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-rendezvous-'));
    const env = {
      ...process.env,
      DATABASE_URL: testEnv('databaseUrl'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ROUNDHOUSE_BLOB_URL: api.blobsUrl,
      RENDEZVOUS_DIR: rendezvous,
    };
    const script = path.join(__dirname, '../support/aggregation-worker.ts');
    const aggregationWorkers: ChildProcess[] = [];
    const workflowWorker = await createTrainingWorker(temporal, api, taskQueue, undefined, aggregationQueue);
    try {
      for (let i = 0; i < 2; i++) {
        aggregationWorkers.push(await startScript(script, [], env, 'aggregation worker polling'));
      }
      const trainings = await Promise.all(
        ['a', 'b'].map(async (label) => {
          const clients = await registerClients(server, `${taskQueue}-${label}`);
          const created = await createTraining(server, `${taskQueue}-${label}`, clients, 2);
          return { clients, ...created };
        }),
      );
      await workflowWorker.runUntil(async () => {
        await Promise.all(trainings.map((t) => startTraining(server, t.actorAuth, t.trainingId)));
        await Promise.all(
          trainings.map((t) => temporal.client.workflow.getHandle(`training-${t.trainingId}`).result()),
        );
      });

      // Who ran each aggregation, as Temporal recorded it in every run of both workflows.
      const ranBy: string[] = [];
      for (const training of trainings) {
        ranBy.push(...(await aggregationIdentities(temporal, `training-${training.trainingId}`)));
      }
      expect(ranBy).toHaveLength(4);
      const pids = aggregationWorkers.map((child) => `aggregation-worker-${child.pid}`);
      expect(new Set(ranBy)).toEqual(new Set(pids));

      for (const training of trainings) {
        const body = await request(server)
          .get(`/api/trainings/${training.trainingId}/`)
          .set('Authorization', training.actorAuth);
        expect(body.body).toMatchObject({ state: 'C' });
        const expected = await expectedVersions(training.clients, 2);
        for (const [i, bytes] of expected.entries()) {
          expect((await downloadVersion(server, training.actorAuth, training.modelId, i + 1)).equals(bytes)).toBe(true);
        }
        await Promise.all(training.clients.map((client) => client.receiver.close()));
      }
    } finally {
      await Promise.all(aggregationWorkers.map((child) => stopRole(child)));
      await fs.rm(rendezvous, { recursive: true, force: true });
      await api.close();
    }
  }, 180_000);
});

/** The identity of the worker that started each `aggregateRound` of every run of the workflow. */
async function aggregationIdentities(temporal: TestTemporal, workflowId: string): Promise<string[]> {
  const identities: string[] = [];
  for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const scheduled = new Set<string>();
    for (const event of history.events ?? []) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes?.activityType?.name === 'aggregateRound') {
        scheduled.add(String(event.eventId));
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.has(String(started.scheduledEventId))) {
        identities.push(started.identity ?? '');
      }
    }
  }
  return identities;
}

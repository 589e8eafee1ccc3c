import { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../src/activities';
import { TemporalTrainingOrchestrator } from '../../src/api/temporal-training-orchestrator';
import { createLogger } from '../../src/logger';
import { createTestApi } from '../fixtures/api-app';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { createMlpTraining, downloadVersion, expectedVersions, registerClients } from '../support/training-scenario';

/** The part of `GET /api/trainings/{id}/`'s `run` this test reads. */
interface RunView {
  phase: string;
  participants: string[];
}

describe('a FedAvg training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when three clients follow the notifications, completes with the engine aggregate as every downloadable version', async () => {
    const taskQueue = uniqueTaskQueue('fedavg-e2e');
    const api = await createTestApi({
      orchestrator: (knex) =>
        new TemporalTrainingOrchestrator(temporal.client, knex, { taskQueue, updateWaitMs: 10_000 }),
    });
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue);
    const { actorAuth, modelId, trainingId } = await createMlpTraining(server, taskQueue, clients, 2);

    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        knex: api.knex,
        blobs: api.blobs,
        logger: createLogger('error'),
        delivery: { timeoutMs: 5_000, attempts: 2, backoffMs: 100, concurrency: 8, allowPrivateAddresses: true },
      }),
    });
    await worker.runUntil(async () => {
      const start = await request(server).post(`/api/trainings/${trainingId}/start/`).set('Authorization', actorAuth);
      expect(start.status).toBe(202);
      // Beyond the reference: GET shows the workflow's own view of the run once it has loaded its settings.
      const runView = async (): Promise<RunView | null> => {
        const res = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
        return (res.body as { run: RunView | null }).run;
      };
      let run = await runView();
      for (let i = 0; i < 100 && (run?.phase ?? 'STARTING') === 'STARTING'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        run = await runView();
      }
      expect(run?.participants).toEqual(clients.map((c) => c.id).sort());
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();
    });

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C' });
    for (const client of clients) {
      expect(client.receiver.errors).toEqual([]);
      expect(client.receiver.received.map((n) => n.notification_type)).toEqual([
        'TRAINING_START',
        'UPDATE_ROUND_START',
        'MODEL_TEST_ROUND',
        'UPDATE_ROUND_START',
        'MODEL_TEST_ROUND',
        'TRAINING_FINISHED',
      ]);
      await client.receiver.close();
    }
    // Round 0 is the upload; rounds 1 and 2 are FedAvg of the fixtures over the previous round.
    expect((await downloadVersion(server, actorAuth, modelId, 0)).equals(fixture('mlp-global-r0.onnx'))).toBe(true);
    const expected = await expectedVersions(clients, 2);
    for (const [i, bytes] of expected.entries()) {
      expect((await downloadVersion(server, actorAuth, modelId, i + 1)).equals(bytes)).toBe(true);
    }
    await api.close();
  }, 120_000);
});

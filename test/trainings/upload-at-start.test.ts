import { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../src/activities';
import { Upload } from '../../src/db/models/upload';
import { createLogger } from '../../src/logger';
import type { TestApi } from '../fixtures/api-app';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import {
  createTraining,
  createTrainingApi,
  registerClients,
  startTraining,
  type Handler,
  type SimulatedClient,
} from '../support/training-scenario';

/** A worker whose run cannot load its settings (so it stays starting) until `gate` resolves. */
async function gatedWorker(
  temporal: Awaited<ReturnType<typeof connectTestTemporal>>,
  api: TestApi,
  taskQueue: string,
  gate: Promise<void>,
): Promise<Worker> {
  const activities = createActivities({ knex: api.knex, blobs: api.blobs, logger: createLogger('error') });
  return Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...activities,
      loadTrainingSettings: async (trainingId: string) => {
        await gate;
        return activities.loadTrainingSettings(trainingId);
      },
    },
  });
}

/** Waits (up to 30 s) until the workflow has an activity of `type` pending: it has run its first workflow task. */
async function waitForPendingActivity(
  temporal: Awaited<ReturnType<typeof connectTestTemporal>>,
  workflowId: string,
  type: string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const described = await temporal.client.workflow.getHandle(workflowId).describe();
    if ((described.raw.pendingActivities ?? []).some((activity) => activity.activityType?.name === type)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${type} activity pending in ${workflowId} after 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function upload(server: Handler, client: SimulatedClient, modelId: string): Promise<request.Response> {
  return request(server)
    .post(`/api/models/${modelId}/`)
    .set('Authorization', `Token ${client.token}`)
    .field('round', '0')
    .field('sample_size', String(client.samples))
    .attach('model_file', client.model, 'update.onnx');
}

describe('an upload that reaches a training whose run is still starting', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when the run stays starting past the wait, answers 503 with Retry-After and keeps no row; once ready, the same upload waits for it and is accepted', async () => {
    const taskQueue = uniqueTaskQueue('upload-at-start');
    // Uploads wait up to 5 s for the run's answer: time enough on a loaded machine for a workflow task.
    const api = await createTrainingApi(taskQueue, 5_000);
    const server = api.app.callback();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // The clients never react to notifications: this test sends the uploads itself.
    const clients = await registerClients(server, taskQueue, { silent: ['a', 'b', 'c'] });
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 1);
    const worker = await gatedWorker(temporal, api, taskQueue, gate);
    try {
      // A failed expectation must open the gate before the worker shuts down: it waits for the gated activity.
      await worker.runUntil(async () => {
        try {
          await steps();
        } finally {
          openGate();
        }
      });
    } finally {
      openGate();
      await Promise.all(clients.map((client) => client.receiver.close()));
      await api.close();
    }

    async function steps(): Promise<void> {
      await startTraining(server, actorAuth, trainingId);
      // The run has taken its first workflow task and waits in loadTrainingSettings: it is starting, not absent.
      await waitForPendingActivity(temporal, `training-${trainingId}`, 'loadTrainingSettings');
      const early = await upload(server, clients[0]!, modelId);
      expect(early.status).toBe(503);
      expect(early.headers['retry-after']).toMatch(/^\d+$/);
      expect(early.body).toMatchObject({
        code: 'unavailable',
        detail: 'The training is still starting; try again shortly.',
      });
      expect(await Upload.query(api.knex).where({ trainingId })).toEqual([]);

      // The run becomes ready while the retry waits: the retry is accepted, not refused.
      setTimeout(openGate, 500);
      const retry = await upload(server, clients[0]!, modelId);
      expect(retry.body).toEqual({ detail: 'Model Update Accepted' });
      expect(retry.status).toBe(201);
      expect(await Upload.query(api.knex).where({ trainingId })).toHaveLength(1);
      await temporal.client.workflow.getHandle(`training-${trainingId}`).terminate('test over');
    }
  });
});

import type { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { startRole } from '../support/role-process';
import { connectTestTemporal, uniqueTaskQueue } from '../support/temporal';
import { testEnv } from '../support/test-env';
import {
  createTraining,
  createTrainingApi,
  downloadVersion,
  expectedVersions,
  registerClients,
  startTraining,
} from '../support/training-scenario';
import { waitFor } from '../support/wait';

describe('a training whose worker process is killed during a round', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when uploads arrive while no worker runs, they are answered 503, retried, and both FedAdam rounds end as uninterrupted', async () => {
    const taskQueue = uniqueTaskQueue('worker-restart');
    const api = await createTrainingApi(taskQueue, 1_500);
    const server = api.app.callback();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const unavailable = { count: 0 };
    const clients = await registerClients(server, taskQueue, { gate, unavailable });
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 2, {
      method: 'FedAdam',
    });
    const env = {
      ...process.env,
      DATABASE_URL: testEnv('databaseUrl'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      ROUNDHOUSE_BLOB_URL: api.blobsUrl,
      ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'info',
    };
    const workers: ChildProcess[] = [];
    try {
      workers.push(await startRole('worker', env, 'worker polling'));
      await startTraining(server, actorAuth, trainingId);
      // Every client has been told round 0 started; then the worker process dies without any cleanup.
      await waitFor(
        () => clients.every((c) => c.receiver.received.some((n) => n.notification_type === 'UPDATE_ROUND_START')),
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      workers[0]?.kill('SIGKILL');
      openGate();
      // With no worker, the uploads are stored but the workflow cannot take them: 503, and the clients retry.
      await waitFor(() => unavailable.count >= 3, 30_000);
      workers.push(await startRole('worker', env, 'worker polling'));
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();
    } finally {
      workers.forEach((w) => w.kill('SIGKILL'));
    }

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C' });
    clients.forEach((c) => expect(c.receiver.errors).toEqual([]));
    // FedAdam keeps moments between rounds (a blob named by the workflow): the restart and the continue-as-new
    // after round 1 must not lose them, so both versions equal one uninterrupted offline run of the engine.
    const expected = await expectedVersions(clients, 2, undefined, 'FedAdam');
    for (const [i, bytes] of expected.entries()) {
      expect((await downloadVersion(server, actorAuth, modelId, i + 1)).equals(bytes)).toBe(true);
    }
    await Promise.all(clients.map((c) => c.receiver.close()));
    await api.close();
  }, 180_000);
});

import request from 'supertest';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, uniqueTaskQueue } from '../support/temporal';
import {
  createTraining,
  createTrainingApi,
  createTrainingWorker,
  downloadVersion,
  expectedVersions,
  registerClients,
  startTraining,
  type TrainingSpec,
  waitForTraining,
} from '../support/training-scenario';

describe('a FedAvg training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  /**
   * Registers the three MLP clients, creates a training of `rounds` with `spec`, and runs it to its end on a worker
   * of its own; `close` stops the receivers and the API.
   */
  async function trainToEnd(label: string, rounds: number, spec: TrainingSpec) {
    const taskQueue = uniqueTaskQueue(label);
    const api = await createTrainingApi(temporal, taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue);
    const created = await createTraining(server, taskQueue, clients, rounds, spec);
    const worker = await createTrainingWorker(temporal, api, taskQueue);
    await worker.runUntil(async () => {
      await startTraining(server, created.actorAuth, created.trainingId);
      await temporal.client.workflow.getHandle(`training-${created.trainingId}`).result();
    });
    const close = async (): Promise<void> => {
      await Promise.all(clients.map((client) => client.receiver.close()));
      await api.close();
    };
    return { api, server, clients, ...created, close };
  }

  it('when three clients follow the notifications, completes with the engine aggregate as every downloadable version', async () => {
    const taskQueue = uniqueTaskQueue('fedavg-e2e');
    const api = await createTrainingApi(temporal, taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue);
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 2);

    const worker = await createTrainingWorker(temporal, api, taskQueue);
    await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      // Beyond the reference: GET shows the workflow's own view of the run once it has loaded its settings.
      const running = await waitForTraining(
        server,
        actorAuth,
        trainingId,
        (t) => (t.run?.phase ?? 'STARTING') !== 'STARTING',
      );
      expect(running.run?.participants).toEqual(clients.map((c) => c.id).sort());
      // Follows the runs: the test server suggests continue-as-new after the first round.
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

  it('when three clients train three FedAdam rounds, every version equals the engine run offline with its moments', async () => {
    const { api, server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd('fedadam-e2e', 3, {
      method: 'FedAdam',
    });

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C' });
    clients.forEach((client) => expect(client.receiver.errors).toEqual([]));
    const [fedAvgRound1] = await expectedVersions(clients, 1);
    const expected = await expectedVersions(clients, 3, undefined, 'FedAdam');
    for (const [i, bytes] of expected.entries()) {
      expect((await downloadVersion(server, actorAuth, modelId, i + 1)).equals(bytes)).toBe(true);
    }
    // FedAdam is not FedAvg here, and each version names the moments it leaves for the next round.
    expect(expected[0]?.equals(fedAvgRound1 ?? Buffer.alloc(0))).toBe(false);
    const versions = await api.knex('model_versions').where({ modelId }).orderBy('round');
    expect(versions.map((v: { strategyStateDigest: string | null }) => v.strategyStateDigest !== null)).toEqual([
      false,
      true,
      true,
      true,
    ]);
    await close();
  }, 180_000);

  it('when three clients train a FedMedian round, the version equals the engine median of their uploads', async () => {
    const { server, clients, actorAuth, modelId, close } = await trainToEnd('fedmedian-e2e', 1, {
      method: 'FedMedian',
      options: { skip_model_tests: true },
    });

    const [median] = await expectedVersions(clients, 1, undefined, 'FedMedian');
    const [mean] = await expectedVersions(clients, 1);
    const version = await downloadVersion(server, actorAuth, modelId, 1);
    expect(version.equals(median ?? Buffer.alloc(0))).toBe(true);
    expect(version.equals(mean ?? Buffer.alloc(0))).toBe(false);
    await close();
  }, 120_000);
});

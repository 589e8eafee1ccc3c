import request from 'supertest';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal } from '../support/temporal';
import { downloadVersion, expectedVersions, trainToEnd, waitForTraining } from '../support/training-scenario';

describe('a FedAvg training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when three clients follow the notifications, completes with the engine aggregate as every downloadable version', async () => {
    const { server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'fedavg-e2e',
      2,
      {},
      {
        // Beyond the reference: GET shows the workflow's own view of the run once it has loaded its settings.
        // trainToEnd then follows the runs: the test server suggests continue-as-new after the first round.
        during: async (run) => {
          const running = await waitForTraining(
            run.server,
            run.actorAuth,
            run.trainingId,
            (t) => (t.run?.phase ?? 'STARTING') !== 'STARTING',
          );
          expect(running.run?.participants).toEqual(run.clients.map((c) => c.id).sort());
        },
      },
    );

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
    await close();
  }, 120_000);

  it('when three clients train three FedAdam rounds, every version equals the engine run offline with its moments', async () => {
    const { api, server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'fedadam-e2e',
      3,
      {
        method: 'FedAdam',
      },
    );

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
    const { server, clients, actorAuth, modelId, close } = await trainToEnd(temporal, 'fedmedian-e2e', 1, {
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

  it('when the blobs are in an S3 bucket, a FedAvg training completes with the engine aggregate as every version', async () => {
    const { api, server, clients, actorAuth, modelId, close } = await trainToEnd(
      temporal,
      'fedavg-s3',
      2,
      {},
      {
        blobStore: 's3',
      },
    );

    expect(api.blobsUrl).toMatch(/^s3:\/\//);
    clients.forEach((client) => expect(client.receiver.errors).toEqual([]));
    const expected = await expectedVersions(clients, 2);
    for (const [i, bytes] of expected.entries()) {
      expect((await downloadVersion(server, actorAuth, modelId, i + 1)).equals(bytes)).toBe(true);
    }
    // Every version the training wrote is a blob in the bucket, under its digest.
    const versions = await api.knex('model_versions').where({ modelId }).orderBy('round');
    expect(versions).toHaveLength(3);
    for (const version of versions as { weightsDigest: string }[]) {
      expect(await api.blobs.stat(version.weightsDigest)).toMatchObject({ digest: version.weightsDigest });
    }
    await close();
  }, 180_000);
});

import fs from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../src/activities';
import { aggregate } from '../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../src/aggregation/model-source';
import { TemporalTrainingOrchestrator } from '../../src/api/temporal-training-orchestrator';
import { createLogger } from '../../src/logger';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { createTestApi, type TestApi } from '../fixtures/api-app';
import { fixture } from '../fixtures/onnx-edge-cases';
import { ClientReceiver, type PushedNotification } from '../support/fl-clients';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';

const CLIENTS = [
  { name: 'a', file: 'mlp-client-a.onnx', samples: 3000 },
  { name: 'b', file: 'mlp-client-b.onnx', samples: 2000 },
  { name: 'c', file: 'mlp-client-c.onnx', samples: 1000 },
] as const;

/** The part of `GET /api/trainings/{id}/`'s `run` this test reads. */
interface RunView {
  phase: string;
  participants: string[];
}

interface Registered {
  id: string;
  token: string;
  receiver: ClientReceiver;
  file: string;
  samples: number;
}

describe('a FedAvg training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;
  let api: TestApi;
  let workerBlobsRoot: string;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when three clients follow the notifications, completes with the engine aggregate as every downloadable version', async () => {
    const taskQueue = uniqueTaskQueue('fedavg-e2e');
    api = await createTestApi({
      orchestrator: (knex) =>
        new TemporalTrainingOrchestrator(temporal.client, knex, { taskQueue, updateWaitMs: 10_000 }),
    });
    workerBlobsRoot = api.blobs.root;
    const server = api.app.callback();
    const clients: Registered[] = [];
    const finished: string[] = [];

    // The clients, as the reference's MNIST example: register with an endpoint, then react to notifications.
    for (const spec of CLIENTS) {
      // Filled once registered; the receiver exists first because registration names its endpoint.
      const self: { me?: Registered } = {};
      const receiver = new ClientReceiver(async (n: PushedNotification) => {
        const me = self.me;
        if (!me) {
          return;
        }
        const modelId = String(n.body.global_model_uuid);
        if (n.notification_type === 'UPDATE_ROUND_START') {
          const res = await request(server)
            .post(`/api/models/${modelId}/`)
            .set('Authorization', `Token ${me.token}`)
            .field('round', String(n.body.round))
            .field('sample_size', String(me.samples))
            .attach('model_file', fixture(me.file), 'update.onnx');
          if (res.status !== 201) {
            throw new Error(`update refused: ${res.status} ${JSON.stringify(res.body)}`);
          }
        } else if (n.notification_type === 'MODEL_TEST_ROUND') {
          const res = await request(server)
            .post(`/api/models/${modelId}/metrics/`)
            .set('Authorization', `Token ${me.token}`)
            .send({ metric_names: ['accuracy'], metric_values: [0.5] });
          if (res.status !== 201) {
            throw new Error(`metrics refused: ${res.status} ${JSON.stringify(res.body)}`);
          }
        } else if (n.notification_type === 'TRAINING_FINISHED') {
          finished.push(spec.name);
        }
      });
      const endpoint = await receiver.listen();
      const registration = await request(server)
        .post('/api/users/')
        .send({
          username: `client-${spec.name}-${taskQueue}`,
          password: 'pw-123456',
          message_endpoint: endpoint,
          client: true,
        });
      expect(registration.status).toBe(201);
      const registered = registration.body as { id: string; token: string };
      const me: Registered = {
        id: registered.id,
        token: registered.token,
        receiver,
        file: spec.file,
        samples: spec.samples,
      };
      self.me = me;
      clients.push(me);
    }

    const actor = await request(server)
      .post('/api/users/')
      .send({ username: `actor-${taskQueue}`, password: 'pw-123456', actor: true });
    const actorAuth = `Token ${(actor.body as { token: string }).token}`;
    const upload = await request(server)
      .post('/api/models/')
      .set('Authorization', actorAuth)
      .field('name', 'mlp')
      .field('description', 'an MNIST MLP')
      .field('input_shape', 'None')
      .field('input_shape', '1')
      .field('input_shape', '28')
      .field('input_shape', '28')
      .attach('model_file', fixture('mlp-global-r0.onnx'), 'model.onnx');
    expect(upload.body).toMatchObject({ detail: 'Model Upload Accepted' });
    const modelId = (upload.body as { model_id: string }).model_id;
    const created = await request(server)
      .post('/api/trainings/')
      .set('Authorization', actorAuth)
      .send({
        model_id: modelId,
        target_num_updates: 2,
        metric_names: ['accuracy'],
        aggregation_method: 'FedAvg',
        uncertainty_method: 'NONE',
        options: { round_timeout: 60, test_timeout: 60 },
        clients: clients.map((c) => c.id),
      });
    expect(created.body).toMatchObject({ detail: 'Training created successfully!' });
    const trainingId = (created.body as { training_id: string }).training_id;

    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        knex: api.knex,
        blobs: new FsBlobStore(workerBlobsRoot),
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
      const handle = temporal.client.workflow.getHandle(`training-${trainingId}`);
      await handle.result();
    });

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C' });
    expect(finished.sort()).toEqual(['a', 'b', 'c']);
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

    // Round 1 is FedAvg of the fixtures over round 0; round 2 FedAvg of the same fixtures over round 1.
    const download = async (round: number): Promise<Buffer> => {
      const res = await request(server)
        .get(`/api/models/${modelId}/?round=${round}`)
        .set('Authorization', actorAuth)
        .buffer(true)
        .parse((response, callback) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => callback(null, Buffer.concat(chunks)));
        });
      expect(res.status).toBe(200);
      return res.body as Buffer;
    };
    let previous = fixture('mlp-global-r0.onnx');
    expect((await download(0)).equals(previous)).toBe(true);
    for (const round of [1, 2]) {
      const expected = await aggregate({
        method: 'FedAvg',
        global: bytesSource(previous),
        updates: clients.map((c) => ({ clientId: c.id, sampleSize: c.samples, source: bytesSource(fixture(c.file)) })),
      });
      const expectedBytes = Buffer.from(await collectBytes(expected.model));
      expect((await download(round)).equals(expectedBytes)).toBe(true);
      previous = expectedBytes;
    }
    await api.close();
    await fs.rm(workerBlobsRoot, { recursive: true, force: true }).catch(() => undefined);
  }, 120_000);
});

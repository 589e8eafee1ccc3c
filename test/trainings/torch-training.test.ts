import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { FlModel } from '../../src/db/models/model';
import { Metric } from '../../src/db/models/metric';
import { rewriteOntoGlobal } from '../../src/models/write';
import { FIXTURES } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal } from '../support/temporal';
import {
  downloadVersion,
  expectedVersions,
  getBytes,
  REFERENCE_CLIENT_METRICS,
  trainToEnd,
} from '../support/training-scenario';

const torchFile = (name: string): Buffer => readFileSync(path.join(FIXTURES, 'torch', name));

/** The three MLP clients of the fixtures, each uploading its TorchScript archive every round. */
const torchClients = () =>
  (['a', 'b', 'c'] as const).map((name, i) => ({
    name,
    model: torchFile(`mlp-client-${name}.jit.pt`),
    samples: [3000, 2000, 1000][i] ?? 0,
  }));

describe('a training of a TorchScript model with clients that upload as the reference client library does', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('completes two rounds whose versions are the engine FedAvg of the archives, with every update stored on the global archive', async () => {
    const global = torchFile('mlp-global-r0.jit.pt');
    const { api, server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'torch-e2e',
      2,
      { global },
      { specs: torchClients(), behaviour: { referenceClient: true } },
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
    }

    // Round 0 is the upload itself; rounds 1 and 2 are the engine's FedAvg of the archives over the round before.
    const versions = [global, ...(await expectedVersions(clients, 2, global))];
    for (const [round, bytes] of versions.entries()) {
      expect((await downloadVersion(server, actorAuth, modelId, round)).equals(bytes)).toBe(true);
    }
    expect(versions[1]?.equals(global)).toBe(false);
    const download = await getBytes(server, actorAuth, `/api/models/${modelId}/`);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.headers['content-disposition']).toBe(`filename="model-${modelId}.pt"`);
    expect((download.body as Buffer).equals(versions[2] ?? Buffer.alloc(0))).toBe(true);

    // No uploader's archive is served: each stored update is that round's global archive with the client's storages.
    const locals = await FlModel.query(api.knex).where({ baseModelId: modelId }).orderBy(['round', 'ownerId']);
    expect(locals).toHaveLength(6);
    for (const local of locals) {
      const client = clients.find((candidate) => candidate.id === local.ownerId);
      const base = versions[local.round];
      if (client === undefined || base === undefined) {
        throw new Error(`an update of round ${local.round} by ${local.ownerId}`);
      }
      expect(local.format).toBe('torchscript');
      const stored = await downloadVersion(server, actorAuth, local.id, local.round);
      expect(stored.equals(Buffer.from(rewriteOntoGlobal(base, client.model)))).toBe(true);
      expect(stored.equals(client.model)).toBe(false);
    }

    // The metrics came as repeated multipart fields with each update and each test.
    const metrics = await Metric.query(api.knex).whereIn(
      'reporterId',
      clients.map((client) => client.id),
    );
    for (const client of clients) {
      const own = metrics.filter((metric) => metric.reporterId === client.id);
      // Two rounds, an update and a test each, two metrics each time.
      expect(own).toHaveLength(8);
      for (const [name, value] of REFERENCE_CLIENT_METRICS) {
        expect(own.filter((metric) => metric.key === name).map((metric) => metric.valueFloat)).toEqual(
          Array.from({ length: 4 }, () => Number(value)),
        );
      }
    }
    const model = await request(server).get(`/api/models/${modelId}/metadata/`).set('Authorization', actorAuth);
    expect(model.body).toMatchObject({ format: 'torchscript' });
    await close();
  }, 180_000);
});

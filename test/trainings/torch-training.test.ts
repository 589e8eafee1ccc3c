import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { FlModel } from '../../src/db/models/model';
import { Metric } from '../../src/db/models/metric';
import { rewriteOntoGlobal } from '../../src/models/write';
import { readSafetensors } from '../../src/aggregation/safetensors';
import { mlpMoments } from '../fixtures/api-models';
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

  it("runs FedDC on state dicts: every assigned download is the global archive with the assigned client's weights", async () => {
    const global = torchFile('mlp-global-r0.state.pt');
    const specs = torchClients().map((spec) => ({ ...spec, model: torchFile(`mlp-client-${spec.name}.state.pt`) }));
    const { api, server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'torch-feddc',
      2,
      { global, method: 'FedDC', options: { daisy_chain_period: 1, aggregation_period: 2 } },
      { specs },
    );

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C', error: null });
    const [fedAvg] = await expectedVersions(clients, 1, global);
    for (const round of [2, 4]) {
      expect((await downloadVersion(server, actorAuth, modelId, round)).equals(fedAvg ?? Buffer.alloc(0))).toBe(true);
    }
    // Rounds 1 and 3 start from another client's update of the round before: downloaded, it is that client's
    // weights on the actor's archive (the clients upload the same file every round).
    const chained = clients.flatMap((client) => client.downloads);
    expect(chained).toHaveLength(6);
    for (const download of chained) {
      expect(download.status).toBe(200);
      const stored = await FlModel.query(api.knex).findById(download.modelId);
      const uploader = clients.find((client) => client.id === stored?.ownerId);
      const bytes = await downloadVersion(server, actorAuth, download.modelId, download.round - 1);
      const base = download.round === 1 ? global : (fedAvg ?? Buffer.alloc(0));
      expect(bytes.equals(Buffer.from(rewriteOntoGlobal(base, uploader?.model ?? Buffer.alloc(0))))).toBe(true);
    }
    await close();
  }, 180_000);

  it('runs a SWAG round on a TorchScript model, the moments keyed by its tensor names', async () => {
    const specs = torchClients().map((spec, k) => ({
      ...spec,
      moments: { first: mlpMoments(0.1 * (k + 1)), second: mlpMoments(0.5) },
    }));
    const { server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'torch-swag',
      1,
      { global: torchFile('mlp-global-r0.jit.pt'), uncertainty: 'SWAG' },
      { specs },
    );

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C', error: null });
    expect(clients[0]?.receiver.received.map((n) => n.notification_type)).toContain('SWAG_ROUND_START');
    const first = await getBytes(server, actorAuth, `/api/models/${modelId}/swag/?moment=first`);
    expect(first.status).toBe(200);
    const moments = readSafetensors(first.body as Buffer).tensors;
    expect([...moments.keys()]).toEqual(['1.weight', '1.bias', '4.weight', '4.bias']);
    // The sample-weighted mean of 0.1, 0.2 and 0.3 with 3000, 2000 and 1000 samples.
    expect(moments.get('4.bias')?.values[0]).toBeCloseTo((0.1 * 3000 + 0.2 * 2000 + 0.3 * 1000) / 6000, 6);
    await close();
  }, 180_000);
});

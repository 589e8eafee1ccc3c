import request from 'supertest';
import { type Float32Tensor, readSafetensors, writeSafetensors } from '../../src/aggregation/safetensors';
import { connectTestTemporal } from '../support/temporal';
import {
  downloadVersion,
  expectedVersions,
  getBytes,
  mlpClients,
  registerUser,
  type SimulatedClient,
  trainToEnd,
  waitForTraining,
} from '../support/training-scenario';

/** The MLP fixture's float initializers, in manifest order. */
const MLP_SHAPES: ReadonlyArray<[string, number[]]> = [
  ['1.weight', [128, 784]],
  ['1.bias', [128]],
  ['4.weight', [10, 128]],
  ['4.bias', [10]],
];

/** Client k's moments: a first moment that differs per client and coordinate, and a second moment above its square. */
function clientMoments(k: number): { first: Map<string, Float32Array>; second: Map<string, Float32Array> } {
  const first = new Map<string, Float32Array>();
  const second = new Map<string, Float32Array>();
  for (const [t, [name, shape]] of MLP_SHAPES.entries()) {
    const size = shape.reduce((a, b) => a * b, 1);
    const mean = Float32Array.from({ length: size }, (_, i) => 0.1 * Math.sin((i + 1) * (k + 1) + t));
    first.set(name, mean);
    second.set(
      name,
      Float32Array.from(mean, (m) => m * m + 0.001 * (k + 1)),
    );
  }
  return { first, second };
}

function safetensorsOf(values: Map<string, Float32Array>): Buffer {
  const shapes = new Map(MLP_SHAPES);
  const tensors = new Map<string, Float32Tensor>(
    [...values].map(([name, v]) => [name, { shape: shapes.get(name) ?? [], values: v }]),
  );
  return Buffer.from(writeSafetensors(tensors));
}

describe('a SWAG training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('runs one SWAG round after the last aggregation and stores the sample-weighted moments, downloadable', async () => {
    const raw = [0, 1, 2].map(clientMoments);
    const specs = mlpClients().map((spec, k) => {
      const { first, second } = clientMoments(k);
      return { ...spec, moments: { first: safetensorsOf(first), second: safetensorsOf(second) } };
    });
    let release = (): void => undefined;
    const swagGate = new Promise<void>((resolve) => (release = resolve));
    const clientAuthOf = (clients: readonly SimulatedClient[]) => `Token ${clients[0]?.token ?? ''}`;
    const { api, server, clients, actorAuth, modelId, trainingId, taskQueue, close } = await trainToEnd(
      temporal,
      'swag-e2e',
      1,
      { uncertainty: 'SWAG' },
      {
        specs,
        behaviour: { swagGate },
        during: async (run) => {
          const clientAuth = clientAuthOf(run.clients);
          // The clients hold their moments back: the training waits in state S after its only aggregation and test.
          const waiting = await waitForTraining(
            run.server,
            run.actorAuth,
            run.trainingId,
            (t) => t.state === 'S',
            60_000,
          );
          expect(waiting.run).toMatchObject({ phase: 'SWAG', round: 1, received: [] });
          const early = await getBytes(run.server, clientAuth, `/api/models/${run.modelId}/swag/?moment=first`);
          expect(early.status).toBe(404);
          // A moment upload for another round is refused while the SWAG round runs, and leaves no row.
          const wrongRound = await request(run.server)
            .post(`/api/models/${run.modelId}/swag/`)
            .set('Authorization', clientAuth)
            .field('round', '0')
            .field('sample_size', '10')
            .attach('first_moment_file', specs[0]?.moments.first ?? Buffer.alloc(0), 'first.safetensors')
            .attach('second_moment_file', specs[0]?.moments.second ?? Buffer.alloc(0), 'second.safetensors');
          expect(wrongRound.status).toBe(400);
          expect(wrongRound.body).toMatchObject({
            detail: `Training with ID ${run.trainingId} is not currently in round 1`,
          });
          release();
        },
      },
    );
    const clientAuth = clientAuthOf(clients);

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C', error: null });
    for (const client of clients) {
      expect(client.receiver.errors).toEqual([]);
      expect(client.receiver.received.map((n) => n.notification_type)).toEqual([
        'TRAINING_START',
        'UPDATE_ROUND_START',
        'MODEL_TEST_ROUND',
        'SWAG_ROUND_START',
        'TRAINING_FINISHED',
      ]);
      expect(client.receiver.received[3]?.body).toEqual({ round: 1, global_model_uuid: modelId });
      await client.receiver.close();
    }
    expect(await api.knex('uploads').where({ trainingId, phase: 'swag' }).count()).toEqual([{ count: '3' }]);

    // The model is now a SWAG model whose metadata names both moment downloads.
    const metadata = await request(server).get(`/api/models/${modelId}/metadata/`).set('Authorization', clientAuth);
    expect(metadata.body).toMatchObject({
      type: 'SWAG',
      round: 1,
      swag_first_moment: `/api/models/${modelId}/swag/?moment=first`,
      swag_second_moment: `/api/models/${modelId}/swag/?moment=second`,
    });
    // Its weights (the SWAG mean) download as any global model's, which the reference cannot do for SWAG models.
    const [version1] = await expectedVersions(clients, 1);
    expect((await downloadVersion(server, clientAuth, modelId, 1)).equals(version1 ?? Buffer.alloc(0))).toBe(true);

    const total = clients.reduce((sum, c) => sum + c.samples, 0);
    for (const moment of ['first', 'second'] as const) {
      const res = await getBytes(server, clientAuth, `/api/models/${modelId}/swag/?moment=${moment}`);
      expect(res.status).toBe(200);
      const stored = readSafetensors(res.body as Buffer);
      expect(stored.metadata).toEqual({ format: 'roundhouse.swag-moment.v1', moment, round: '1', clients: '3' });
      expect([...stored.tensors.keys()]).toEqual(MLP_SHAPES.map(([name]) => name));
      for (const [name, shape] of MLP_SHAPES) {
        const tensor = stored.tensors.get(name);
        expect(tensor?.shape).toEqual(shape);
        // Σ (nᵢ/Σn)·mᵢ in float64, written in the test from the clients' own arrays.
        let worst = 0;
        for (let i = 0; i < (tensor?.values.length ?? 0); i++) {
          let expected = 0;
          clients.forEach((c, k) => {
            expected += (c.samples / total) * (raw[k]?.[moment].get(name)?.[i] ?? NaN);
          });
          worst = Math.max(worst, Math.abs((tensor?.values[i] ?? NaN) - expected));
        }
        expect(worst).toBeLessThan(1e-7);
      }
    }

    const bad = await request(server).get(`/api/models/${modelId}/swag/?moment=third`).set('Authorization', actorAuth);
    expect(bad.status).toBe(400);
    expect((bad.body as { detail: string }).detail).toContain('moment must be first or second');
    const stranger = await registerUser(server, `stranger-${taskQueue}`, {});
    const hidden = await request(server)
      .get(`/api/models/${modelId}/swag/?moment=first`)
      .set('Authorization', `Token ${stranger.token}`);
    expect(hidden.status).toBe(404);
    await close();
  }, 180_000);
});

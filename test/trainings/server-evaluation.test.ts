/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import request from 'supertest';
import type { RoundView } from '../../src/api/routes/trainings/round-schemas';
import { trainingWorkflowId } from '../../src/workflows/training/definitions';
import type { TestApi } from '../fixtures/api-app';
import { safetensorsFile } from '../fixtures/datasets';
import { fixture } from '../fixtures/onnx-edge-cases';
import { mlpForward } from '../support/mlp-forward';
import type { TestTemporal } from '../support/temporal';
import {
  createTraining,
  downloadVersion,
  type Handler,
  registerClients,
  registerUser,
  type SimulatedClient,
  startTraining,
  startTrainingStack,
  type TrainingStack,
  waitForTraining,
} from '../support/training-scenario';
import { decodeReference } from '../unit/aggregation/helpers/reference-onnx';
import { FIXTURE_FACTS, mnistBatch } from '../unit/aggregation/helpers/fixtures';

/** The 16 test digits as the models take them (float32, normalized), and their labels. */
function digits(): { x: Float32Array; labels: number[] } {
  const { mean, std } = FIXTURE_FACTS.normalization;
  const batch = mnistBatch();
  return { x: Float32Array.from(batch.pixels.flat(), (p) => (p / 255 - mean) / std), labels: batch.labels };
}

/** A safetensors file of `x` float32 [16, 1, 28, 28] and `y` int64 [16]. */
function digitsFile(): Buffer {
  const { x, labels } = digits();
  return safetensorsFile({
    x: { dtype: 'F32', shape: [labels.length, 1, 28, 28], values: x },
    y: { dtype: 'I64', shape: [labels.length], values: new BigInt64Array(labels.map((label) => BigInt(label))) },
  });
}

/** Loss (mean cross-entropy over logits) and accuracy of the MLP with `weights` on the digits, in float64. */
function expectedFigures(model: Uint8Array): { loss: number; accuracy: number } {
  const weights = new Map([...decodeReference(model)].map(([name, tensor]) => [name, tensor.values]));
  const { x, labels } = digits();
  const logits = mlpForward(weights, Float64Array.from(x), labels.length);
  let loss = 0;
  let correct = 0;
  labels.forEach((label, row) => {
    const z = Array.from(logits.subarray(row * 10, row * 10 + 10));
    const max = Math.max(...z);
    loss += Math.log(z.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max - (z[label] ?? 0);
    correct += z.indexOf(max) === label ? 1 : 0;
  });
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}

describe('the server evaluates every version of a training on its dataset', () => {
  let stack: TrainingStack;
  let temporal: TestTemporal;
  let api: TestApi;
  let server: Handler;
  let registered: SimulatedClient[];

  beforeAll(async () => {
    stack = await startTrainingStack('evaluation');
    ({ temporal, api, server, clients: registered } = stack);
  });

  afterAll(async () => {
    await stack.close();
  });

  /** An actor with the digits uploaded as its dataset, and three MLP clients. */
  async function setup(
    label: string,
  ): Promise<{ actor: { id: string; token: string }; datasetId: number; clients: SimulatedClient[] }> {
    const actor = await registerUser(server, `actor-${label}-${Date.now()}`, { actor: true });
    const uploaded = await request(server)
      .post('/api/datasets/')
      .set('Authorization', `Token ${actor.token}`)
      .field('name', 'digits')
      .field('description', '16 MNIST test digits')
      .attach('file', digitsFile(), 'digits.safetensors');
    expect(uploaded.status).toBe(201);
    const clients = await registerClients(server, label, {});
    registered.push(...clients);
    return { actor, datasetId: (uploaded.body as { id: number }).id, clients };
  }

  it('when a FedAvg training names a dataset, the stored loss and accuracy of rounds 0 and 1 equal a float64 forward pass', async () => {
    const { actor, datasetId, clients } = await setup('evaluated');
    const { actorAuth, modelId, trainingId } = await createTraining(server, 'evaluated', clients, 1, {
      actor,
      options: { evaluation_dataset: datasetId },
    });
    await startTraining(server, actorAuth, trainingId);
    await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
    const metrics = (await request(server).get(`/api/models/${modelId}/metrics/`).set('Authorization', actorAuth))
      .body as Array<{ key: string; value_float: number; step: number; reporter: string | null }>;
    const server0 = metrics.filter((m) => m.reporter === null && m.step === 0);
    const server1 = metrics.filter((m) => m.reporter === null && m.step === 1);
    // One set of figures per version: no duplicates from retries.
    expect(server0.map((m) => m.key).sort()).toEqual(['accuracy', 'loss']);
    expect(server1.map((m) => m.key).sort()).toEqual(['accuracy', 'loss']);
    const versions = [fixture('mlp-global-r0.onnx'), await downloadVersion(server, actorAuth, modelId, 1)];
    for (const [round, stored] of [server0, server1].entries()) {
      const expected = expectedFigures(versions[round]!);
      const value = (key: string) => stored.find((m) => m.key === key)?.value_float ?? NaN;
      expect(Math.abs(value('loss') - expected.loss)).toBeLessThan(1e-5);
      expect(value('accuracy')).toBe(expected.accuracy);
    }
    // The aggregate is far better than the random initial model.
    expect(server1.find((m) => m.key === 'loss')!.value_float).toBeLessThan(
      server0.find((m) => m.key === 'loss')!.value_float,
    );
    // A participant sees the server's figures too; the rounds view shows both versions' figures.
    const asClient = (
      await request(server).get(`/api/models/${modelId}/metrics/`).set('Authorization', `Token ${clients[0]!.token}`)
    ).body as Array<{ reporter: string | null }>;
    expect(asClient.filter((m) => m.reporter === null)).toHaveLength(4);
    const [round0] = (await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', actorAuth))
      .body as RoundView[];
    expect(round0!.server_metrics_started_from.loss).toBeCloseTo(expectedFigures(versions[0]!).loss, 5);
    expect(round0!.server_metrics.loss).toBeCloseTo(expectedFigures(versions[1]!).loss, 5);
    expect(round0!.evaluation_errors).toEqual({});
    // The Web UI sees the last evaluation in the workflow's memo.
    const { memo } = await temporal.client.workflow.getHandle(trainingWorkflowId(trainingId)).describe();
    expect(memo?.evaluation).toMatchObject({ round: 1, rows: 16 });
  });

  it("when the dataset's rows do not fit the model's input, refuses the training with both shapes and stores nothing", async () => {
    const actor = await registerUser(server, `actor-misfit-${Date.now()}`, { actor: true });
    const file = safetensorsFile({
      x: { dtype: 'F32', shape: [2, 5], values: new Float32Array(2 * 5) },
      y: { dtype: 'I64', shape: [2], values: new BigInt64Array(2) },
    });
    const uploaded = await request(server)
      .post('/api/datasets/')
      .set('Authorization', `Token ${actor.token}`)
      .field('name', 'five columns')
      .field('description', 'rows of 5 values')
      .attach('file', file, 'five.safetensors');
    expect(uploaded.status).toBe(201);
    const clients = await registerClients(server, 'misfit', {});
    registered.push(...clients);
    const before = await api.knex('trainings').count<Array<{ count: string }>>({ count: '*' });
    const refused = await createTraining(server, 'misfit', clients, 1, {
      actor,
      options: { evaluation_dataset: (uploaded.body as { id: number }).id },
    }).then(
      () => 'created',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    expect(refused).toMatch(/training creation failed: 400/);
    expect(refused).toMatch(/\[5\] each\) do not fit the model's input \[None, 1, 28, 28\]/);
    expect(await api.knex('trainings').count<Array<{ count: string }>>({ count: '*' })).toEqual(before);
  });

  it("when the dataset's file is gone from the blob store, the training still completes and each round says why it has no figures", async () => {
    const { actor, datasetId, clients } = await setup('lost');
    const { actorAuth, trainingId } = await createTraining(server, 'lost', clients, 1, {
      actor,
      options: { evaluation_dataset: datasetId },
    });
    const row = (await api.knex('datasets').where({ id: datasetId }).first()) as { blobDigest: string };
    expect(await api.blobs.delete(row.blobDigest)).toBe(true);
    await startTraining(server, actorAuth, trainingId);
    await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
    const [round0] = (await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', actorAuth))
      .body as RoundView[];
    expect(round0!.server_metrics).toEqual({});
    expect(Object.keys(round0!.evaluation_errors).sort()).toEqual(['0', '1']);
    expect(round0!.evaluation_errors['1']).toMatch(/dataset .* cannot be read/);
  });
});

import { WorkflowFailedError } from '@temporalio/client';
import request from 'supertest';
import { Metric } from '../../src/db/models/metric';
import { Upload } from '../../src/db/models/upload';
import { tinyModel } from '../fixtures/onnx-edge-cases';
import { ClientReceiver } from '../support/fl-clients';
import { connectTestTemporal, uniqueTaskQueue } from '../support/temporal';
import {
  type ClientSpec,
  createTraining,
  createTrainingApi,
  createTrainingWorker,
  downloadVersion,
  expectedVersions,
  type Handler,
  registerClients,
  startTraining,
  type SimulatedClient,
  untilNot503,
  waitForTraining,
} from '../support/training-scenario';

/** A participant's update as a client posts it. */
function postUpdate(
  server: Handler,
  client: SimulatedClient,
  modelId: string,
  round: number,
  model = client.model,
): request.Test {
  return request(server)
    .post(`/api/models/${modelId}/`)
    .set('Authorization', `Token ${client.token}`)
    .field('round', String(round))
    .field('sample_size', String(client.samples))
    .attach('model_file', model, 'update.onnx');
}

/** A participant's model-test metrics as a client posts them (they carry no round: the model's counts). */
function postMetrics(server: Handler, client: SimulatedClient, modelId: string, accuracy: number): request.Test {
  return request(server)
    .post(`/api/models/${modelId}/metrics/`)
    .set('Authorization', `Token ${client.token}`)
    .send({ metric_names: ['accuracy'], metric_values: [accuracy] });
}

function named(clients: SimulatedClient[], name: string): SimulatedClient {
  const client = clients.find((c) => c.name === name);
  if (!client) {
    throw new Error(`no client ${name}`);
  }
  return client;
}

describe('training rounds through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('answers retries, conflicts, stale rounds and strangers as the contract says, and leaves a straggler out at the deadline', async () => {
    const taskQueue = uniqueTaskQueue('round-contract');
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue, { pullOnly: ['a', 'b', 'c'] });
    const [stranger] = await registerClients(server, `${taskQueue}-x`, { pullOnly: ['a'] });
    const [a, b, c] = [named(clients, 'a'), named(clients, 'b'), named(clients, 'c')];
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 2, {
      options: { round_timeout: 3, min_clients: 2, skip_model_tests: true },
    });

    const worker = await createTrainingWorker(temporal, api, taskQueue);
    const seen = await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE');

      const strangerUpload = await postUpdate(server, stranger ?? a, modelId, 0);
      const futureRound = await postUpdate(server, a, modelId, 1);
      const first = await postUpdate(server, a, modelId, 0);
      const retry = await postUpdate(server, a, modelId, 0);
      const otherBytes = await postUpdate(server, a, modelId, 0, b.model);
      const progress = await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.received.length === 1);
      expect((await postUpdate(server, b, modelId, 0)).status).toBe(201);
      // c never uploads round 0: at the deadline the quorum of 2 is met, so round 0 is aggregated without it.
      const round1 = await waitForTraining(
        server,
        actorAuth,
        trainingId,
        (t) => t.run?.phase === 'UPDATE' && t.run.round === 1,
      );
      const lateStraggler = await postUpdate(server, c, modelId, 0);
      for (const client of [a, b, c]) {
        expect((await postUpdate(server, client, modelId, 1)).status).toBe(201);
      }
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();
      const finished = await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      return { strangerUpload, futureRound, first, retry, otherBytes, progress, round1, lateStraggler, finished };
    });

    expect([seen.strangerUpload.status, seen.strangerUpload.body]).toEqual([
      403,
      expect.objectContaining({ detail: `You are not a participant of training ${trainingId}!` }),
    ]);
    expect([seen.futureRound.status, seen.futureRound.body]).toEqual([
      400,
      expect.objectContaining({ detail: `Training with ID ${trainingId} is not currently in round 0` }),
    ]);
    expect(seen.first.status).toBe(201);
    expect([seen.retry.status, seen.retry.body]).toEqual([201, seen.first.body]);
    expect(seen.otherBytes.status).toBe(409);
    expect(seen.progress.run).toMatchObject({ round: 0, received: [a.id], extended: false });
    expect(seen.progress.run?.missing).toEqual([b.id, c.id].sort());
    expect(seen.round1.run?.left_out).toEqual({ '0': [c.id] });
    expect([seen.lateStraggler.status, seen.lateStraggler.body]).toEqual([
      400,
      expect.objectContaining({ detail: `Training with ID ${trainingId} is not currently in round 1` }),
    ]);
    expect(seen.finished.run).toMatchObject({ phase: 'FINISHED', round: 2, left_out: { '0': [c.id] } });
    // Round 1 is the mean of a and b only; round 2 of all three over round 1.
    const [round1] = await expectedVersions([a, b], 1);
    const [round2] = await expectedVersions([a, b, c], 1, round1);
    expect((await downloadVersion(server, actorAuth, modelId, 1)).equals(round1 ?? Buffer.alloc(0))).toBe(true);
    expect((await downloadVersion(server, actorAuth, modelId, 2)).equals(round2 ?? Buffer.alloc(0))).toBe(true);
    // The refused uploads left no rows: one update per client and round, the accepted ones only.
    const uploads = await api.knex('uploads').where({ trainingId }).orderBy(['round', 'clientId']);
    expect(uploads.map((u: { round: number; clientId: string }) => [u.round, u.clientId])).toEqual([
      ...[a.id, b.id].sort().map((id) => [0, id]),
      ...[a.id, b.id, c.id].sort().map((id) => [1, id]),
    ]);
    await api.close();
  }, 120_000);

  it('refuses test metrics out of their phase and keeps none of them; a late exact retry is answered as its first try', async () => {
    const taskQueue = uniqueTaskQueue('round-tests');
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue, { pullOnly: ['a', 'b', 'c'] });
    const [a, b, c] = [named(clients, 'a'), named(clients, 'b'), named(clients, 'c')];
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 2);

    // Round 1's aggregation is held once it has written round 2: the model is a round ahead of a run that still
    // aggregates, the window in which a client's late retry of its test metrics of round 1 arrives after a crash.
    let aggregated: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (aggregated = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await createTrainingWorker(temporal, api, taskQueue, (acts) => ({
      ...acts,
      aggregateRound: async (input) => {
        const result = await acts.aggregateRound(input);
        if (input.round === 1) {
          aggregated();
          await released;
        }
        return result;
      },
    }));
    const uploadRound = async (round: number): Promise<void> => {
      for (const client of clients) {
        expect((await postUpdate(server, client, modelId, round)).status).toBe(201);
      }
    };
    const seen = await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE');
      const beforeTests = await postMetrics(server, a, modelId, 0.25);
      await uploadRound(0);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'TEST' && t.run.round === 1);
      const first = await postMetrics(server, a, modelId, 0.75);
      const retryInRound = await postMetrics(server, a, modelId, 0.75);
      expect((await postMetrics(server, b, modelId, 0.5)).status).toBe(201);
      expect((await postMetrics(server, c, modelId, 0.5)).status).toBe(201);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE' && t.run.round === 1);
      await uploadRound(1);
      await written;
      const lateRetry = await postMetrics(server, a, modelId, 0.75);
      const whileAggregating = await postMetrics(server, b, modelId, 0.125);
      release();
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'TEST' && t.run.round === 2);
      for (const client of clients) {
        expect((await postMetrics(server, client, modelId, 0.875)).status).toBe(201);
      }
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      const afterTheEnd = await postMetrics(server, c, modelId, 0.875);
      return { beforeTests, first, retryInRound, lateRetry, whileAggregating, afterTheEnd };
    });

    const wrongPhase = (phase: string): unknown =>
      expect.objectContaining({
        detail: `The training is not waiting for test metrics now (phase ${phase}).`,
        details: { reason: 'wrong_phase' },
      });
    expect([seen.beforeTests.status, seen.beforeTests.body]).toEqual([400, wrongPhase('UPDATE')]);
    expect(seen.first.status).toBe(201);
    expect([seen.retryInRound.status, seen.retryInRound.body]).toEqual([201, seen.first.body]);
    expect([seen.lateRetry.status, seen.lateRetry.body]).toEqual([201, seen.first.body]);
    expect([seen.whileAggregating.status, seen.whileAggregating.body]).toEqual([400, wrongPhase('AGGREGATING')]);
    expect(seen.afterTheEnd.status).toBe(201);
    // One metric and one test slot per client and test round: refused metrics and retries left no row.
    const metrics = await Metric.query(api.knex).where({ trainingId });
    const byName = new Map(clients.map((client) => [client.id, client.name]));
    expect(metrics.map((m) => [m.step, byName.get(m.reporterId ?? ''), m.valueFloat]).sort()).toEqual([
      [1, 'a', 0.75],
      [1, 'b', 0.5],
      [1, 'c', 0.5],
      [2, 'a', 0.875],
      [2, 'b', 0.875],
      [2, 'c', 0.875],
    ]);
    const tests = await Upload.query(api.knex).where({ trainingId, phase: 'test' });
    expect(tests.map((u) => u.round).sort()).toEqual([1, 1, 1, 2, 2, 2]);
    await api.close();
  }, 120_000);

  it('when too few updates arrive even after the one extension, ends in ERROR with the reason shown', async () => {
    const taskQueue = uniqueTaskQueue('round-quorum');
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue, { silent: ['b', 'c'] });
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 1, {
      options: { round_timeout: 2, min_clients: 2, skip_model_tests: true },
    });

    const worker = await createTrainingWorker(temporal, api, taskQueue);
    const seen = await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      const extended = await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.extended === true);
      const failure = await temporal.client.workflow
        .getHandle(`training-${trainingId}`)
        .result()
        .then(
          () => 'completed',
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        );
      return { extended, failure };
    });

    const reason = 'Round 0 ended below quorum: 1 of 2 required updates arrived before the extended deadline.';
    expect(seen.failure).toBe('Workflow execution failed');
    expect(seen.extended.run).toMatchObject({ phase: 'UPDATE', round: 0, received: [named(clients, 'a').id] });
    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'E', error: reason });
    // Nothing was aggregated, and the training takes no more uploads.
    expect((await request(server).get(`/api/models/${modelId}/?round=1`).set('Authorization', actorAuth)).status).toBe(
      404,
    );
    const late = await postUpdate(server, named(clients, 'b'), modelId, 0);
    expect([late.status, late.body]).toEqual([
      400,
      expect.objectContaining({ detail: `Training with ID ${trainingId} is in state E` }),
    ]);
    await Promise.all(clients.map((client) => client.receiver.close()));
    await api.close();
  }, 120_000);

  it('when the actor deletes a running training, cancels its workflow cleanly: CANCELLED, nothing more sent', async () => {
    const taskQueue = uniqueTaskQueue('round-delete');
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue, { silent: ['a', 'b', 'c'] });
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 3);

    const worker = await createTrainingWorker(temporal, api, taskQueue);
    const seen = await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE');
      const deleted = await request(server).delete(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
      const handle = temporal.client.workflow.getHandle(`training-${trainingId}`);
      const outcome = await handle.result().then(
        () => 'completed',
        (err: unknown) => (err instanceof WorkflowFailedError ? err.cause?.name : 'other'),
      );
      return { deleted, outcome, status: (await handle.describe()).status.name };
    });

    expect([seen.deleted.status, seen.deleted.body]).toEqual([200, { detail: 'Training removed!' }]);
    expect([seen.outcome, seen.status]).toEqual(['CancelledFailure', 'CANCELLED']);
    expect((await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth)).status).toBe(
      404,
    );
    // The model stays; the clients were told the round started and nothing after.
    expect((await request(server).get(`/api/models/${modelId}/metadata/`).set('Authorization', actorAuth)).status).toBe(
      200,
    );
    for (const client of clients) {
      expect(client.receiver.received.map((n) => n.notification_type)).toEqual([
        'TRAINING_START',
        'UPDATE_ROUND_START',
      ]);
      await client.receiver.close();
    }
    await api.close();
  }, 120_000);

  it('when a client endpoint keeps failing, removes it from the training and delivers CLIENT_REMOVED to the actor', async () => {
    const taskQueue = uniqueTaskQueue('round-removal');
    const api = await createTrainingApi(taskQueue);
    const server = api.app.callback();
    const clients = await registerClients(server, taskQueue, { failing: ['c'] });
    const actor = new ClientReceiver(() => Promise.resolve());
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 1, {
      options: { skip_model_tests: true },
      actorEndpoint: await actor.listen(),
    });
    const [a, b, c] = [named(clients, 'a'), named(clients, 'b'), named(clients, 'c')];

    const worker = await createTrainingWorker(temporal, api, taskQueue);
    await worker.runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();
    });

    // Two attempts at TRAINING_START, both refused; nothing after that.
    expect(c.receiver.received.map((n) => n.notification_type)).toEqual(['TRAINING_START', 'TRAINING_START']);
    expect(actor.received.map((n) => [n.notification_type, n.body.client_uuid ?? null])).toEqual([
      ['CLIENT_REMOVED', c.id],
      ['TRAINING_FINISHED', null],
    ]);
    expect(actor.received[0]?.body.reason).toBe('notification TRAINING_START could not be delivered');
    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C' });
    expect((training.body as { participants: string[] }).participants.sort()).toEqual([a.id, b.id].sort());
    const deliveries = await api
      .knex('notifications')
      .where({ trainingId, receiverId: c.id })
      .select('type', 'deliveryState', 'attempts');
    expect(deliveries).toEqual([{ type: 'TRAINING_START', deliveryState: 'FAILED', attempts: 2 }]);
    const [expected] = await expectedVersions([a, b], 1);
    expect((await downloadVersion(server, actorAuth, modelId, 1)).equals(expected ?? Buffer.alloc(0))).toBe(true);
    await Promise.all([...clients.map((client) => client.receiver.close()), actor.close()]);
    await api.close();
  }, 120_000);

  it('when 50 clients upload at the same moment, accepts every update in the end, those answered 503 (no worker) after retries', async () => {
    const taskQueue = uniqueTaskQueue('round-burst');
    const api = await createTrainingApi(taskQueue, 2_000);
    const server = api.app.callback();
    const specs: ClientSpec[] = Array.from({ length: 50 }, (_, i) => ({
      name: `n${String(i).padStart(2, '0')}`,
      model: tinyModel({ kind: 'values', values: [i, -i, i / 7, 1] }),
      samples: 10 + i,
    }));
    const clients = await registerClients(server, taskQueue, { pullOnly: specs.map((s) => s.name) }, specs);
    const global = tinyModel({ kind: 'values', values: [0, 0, 0, 0] });
    const { actorAuth, modelId, trainingId } = await createTraining(server, taskQueue, clients, 2, {
      global,
      options: { skip_model_tests: true },
    });
    const burst = (round: number, unavailable: { count: number }): Promise<number[]> =>
      Promise.all(
        clients.map((client) =>
          untilNot503(() => postUpdate(server, client, modelId, round), { unavailable }).then((res) => res.status),
        ),
      );

    // Round 0: 50 uploads at once while the worker runs.
    const first = { count: 0 };
    const round0 = await (
      await createTrainingWorker(temporal, api, taskQueue)
    ).runUntil(async () => {
      await startTraining(server, actorAuth, trainingId);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE');
      const statuses = await burst(0, first);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE' && t.run.round === 1);
      return statuses;
    });
    // Round 1: 50 uploads at once while no worker runs. The API hands a few to Temporal at a time and queues the
    // rest; each waits out the API's 2 s. Every answer is a 503 until a worker is back.
    const second = { count: 0 };
    const round1 = burst(1, second);
    const deadline = Date.now() + 60_000;
    while (second.count < clients.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const refusedWhileAway = second.count;
    const statuses = await (
      await createTrainingWorker(temporal, api, taskQueue)
    ).runUntil(async () => {
      const answers = await round1;
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();
      return answers;
    });

    console.log(`50 simultaneous uploads: ${first.count} retried 503s with a worker, ${second.count} without one`);
    expect(round0).toEqual(clients.map(() => 201));
    expect(statuses).toEqual(clients.map(() => 201));
    expect(refusedWhileAway).toBeGreaterThanOrEqual(clients.length);
    const [v1, v2] = await expectedVersions(clients, 2, global);
    expect((await downloadVersion(server, actorAuth, modelId, 1)).equals(v1 ?? Buffer.alloc(0))).toBe(true);
    expect((await downloadVersion(server, actorAuth, modelId, 2)).equals(v2 ?? Buffer.alloc(0))).toBe(true);
    expect(await api.knex('uploads').where({ trainingId }).count({ n: '*' })).toEqual([{ n: '100' }]);
    await api.close();
  }, 240_000);
});

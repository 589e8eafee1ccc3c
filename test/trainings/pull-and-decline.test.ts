import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import type { TaskResponse } from '../../src/api/routes/tasks/schemas';
import type { RoundView } from '../../src/api/routes/trainings/round-schemas';
import type { User } from '../../src/db/models/user';
import { buildApiUser, createTestApi, type TestApi } from '../fixtures/api-app';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import {
  type ClientBehaviour,
  createTraining,
  createTrainingApi,
  createTrainingWorker,
  downloadVersion,
  expectedVersions,
  type Handler,
  react,
  registerClients,
  type SimulatedClient,
  startTraining,
  waitForTraining,
} from '../support/training-scenario';

/** GET the caller's open tasks, long-polling `wait` seconds. */
async function pull(server: Handler, token: string, wait = 0): Promise<TaskResponse[]> {
  const res = await request(server).get(`/api/users/myself/tasks/?wait=${wait}`).set('Authorization', `Token ${token}`);
  if (res.status !== 200) {
    throw new Error(`tasks answered ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as TaskResponse[];
}

/**
 * The client's listed task of `type`, long-polled until it is listed: a phase shows in the training's view as soon
 * as the workflow enters it, a moment before the round's tasks are stored.
 */
async function pullTask(server: Handler, token: string, type: string): Promise<TaskResponse> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const task = (await pull(server, token, 2)).find((t) => t.notification_type === type);
    if (task) {
      return task;
    }
  }
  throw new Error(`no ${type} task was listed within a minute`);
}

async function ack(server: Handler, token: string, id: number): Promise<request.Response> {
  return request(server).post(`/api/users/myself/tasks/${id}/ack/`).set('Authorization', `Token ${token}`);
}

async function declineRound(
  server: Handler,
  token: string,
  trainingId: string,
  round: number,
  message?: string,
): Promise<request.Response> {
  return request(server)
    .post(`/api/trainings/${trainingId}/rounds/${round}/decline/`)
    .set('Authorization', `Token ${token}`)
    .send(message === undefined ? {} : { message });
}

/**
 * A client without an endpoint: long-polls its tasks, does each pending one (or declines it when `declines`), and
 * acknowledges messages, until TRAINING_FINISHED. Returns the notification types it saw, in order.
 */
async function pullUntilFinished(
  server: Handler,
  me: SimulatedClient,
  behaviour: ClientBehaviour,
  declines = false,
): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    for (const task of await pull(server, me.token, 5)) {
      seen.push(task.notification_type);
      if (task.state === 'PENDING') {
        if (declines) {
          const res = await declineRound(server, me.token, task.training_uuid, task.round ?? -1, 'no data this round');
          expect(res.status).toBe(200);
        } else {
          await react(server, me, { ...task, body: task.body }, behaviour);
        }
      } else {
        expect((await ack(server, me.token, task.id)).status).toBe(200);
      }
      if (task.notification_type === 'TRAINING_FINISHED') {
        return seen;
      }
    }
  }
}

describe('clients that pull and decline, and the rounds view', () => {
  let temporal: TestTemporal;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  /** Clients a test registered: their receivers are closed after it, and their reactions must not have failed. */
  const registered: SimulatedClient[] = [];
  function track(clients: SimulatedClient[]): SimulatedClient[] {
    registered.push(...clients);
    return clients;
  }

  afterEach(async () => {
    const clients = registered.splice(0);
    await Promise.all(clients.map((client) => client.receiver.close()));
    for (const client of clients) {
      expect(client.receiver.errors).toEqual([]);
    }
  });

  /** Runs `body` with an API and a worker on a task queue of their own. */
  async function withTraining<T>(body: (api: TestApi, server: Handler) => Promise<T>, poolMax?: number): Promise<T> {
    const taskQueue = uniqueTaskQueue('pull');
    const api = poolMax ? await createTestApi({ taskQueue, poolMax }) : await createTrainingApi(taskQueue);
    const worker: Worker = await createTrainingWorker(temporal, api, taskQueue);
    try {
      return await worker.runUntil(body(api, api.app.callback()));
    } finally {
      await api.close();
    }
  }

  it('when a client has no endpoint, it completes a training through long-polling alone, and the versions equal FedAvg offline', async () => {
    await withTraining(async (api, server) => {
      const behaviour: ClientBehaviour = { pullOnly: ['b', 'c'] };
      const clients = track(await registerClients(server, 'pull', behaviour));
      const { actorAuth, modelId, trainingId } = await createTraining(server, 'pull', clients, 2);
      await startTraining(server, actorAuth, trainingId);
      const [b, c] = [clients[1]!, clients[2]!];
      const seen = await Promise.all([b, c].map((client) => pullUntilFinished(server, client, behaviour)));
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      for (const types of seen) {
        expect(types).toEqual([
          'TRAINING_START',
          'UPDATE_ROUND_START',
          'MODEL_TEST_ROUND',
          'UPDATE_ROUND_START',
          'MODEL_TEST_ROUND',
          'TRAINING_FINISHED',
        ]);
      }
      // The pushed client got the same, by push; nobody was removed.
      expect(clients[0]!.receiver.received.map((n) => n.notification_type)).toEqual(seen[0]);
      const expected = await expectedVersions(clients, 2);
      for (const [i, version] of expected.entries()) {
        expect((await downloadVersion(server, actorAuth, modelId, i + 1)).equals(version)).toBe(true);
      }
      // Every task is done, and everything else acknowledged: nothing is left to pull.
      expect(await pull(server, b.token)).toEqual([]);
      void api;
    });
  });

  it('when a pushed client lost a round start (it acknowledged the push, then went down), it catches up by pulling', async () => {
    await withTraining(async (_api, server) => {
      const behaviour: ClientBehaviour = { silent: ['a'] };
      const clients = track(await registerClients(server, 'catchup', behaviour));
      const { actorAuth, trainingId } = await createTraining(server, 'catchup', clients, 1, {
        options: { skip_model_tests: true },
      });
      await startTraining(server, actorAuth, trainingId);
      const a = clients[0]!;
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.missing.join() === a.id);
      // Back up, the client pulls what it missed and does it.
      const open = await pull(server, a.token);
      const pending = open.filter((task) => task.state === 'PENDING');
      expect(pending).toEqual([
        expect.objectContaining({ notification_type: 'UPDATE_ROUND_START', round: 0, training_uuid: trainingId }),
      ]);
      expect(pending[0]!.deadline).not.toBeNull();
      await react(server, a, pending[0]!, {});
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      expect((await pull(server, a.token)).filter((task) => task.state === 'PENDING')).toEqual([]);
    });
  });

  it('when 500 clients long-poll at once on one API process with the default pool, one round start wakes them all', async () => {
    await withTraining(async (api, _server) => {
      const actor = await buildApiUser(api.knex, { username: `actor-many-${Date.now()}` });
      const users: User[] = [];
      for (let i = 0; i <= 500; i += 1) {
        users.push(await buildApiUser(api.knex, { username: `many-${Date.now()}-${i}` }));
      }
      const handle = api.app.callback();
      const httpServer = http.createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
      const get = async (user: User, wait: number): Promise<TaskResponse[]> => {
        const res = await fetch(`${base}/api/users/myself/tasks/?wait=${wait}`, {
          headers: { Authorization: `Token ${user.token}` },
        });
        expect(res.status).toBe(200);
        return (await res.json()) as TaskResponse[];
      };
      const server = api.app.callback();
      try {
        const spec = { actor: { id: actor.id, token: actor.token }, options: { skip_model_tests: true } };
        const clients = users.map((u, i) => ({ id: u.id, token: u.token, name: String(i) }));
        const { actorAuth, trainingId } = await createTraining(server, 'many', clients, 2, spec);
        await startTraining(server, actorAuth, trainingId);
        // Round 0: the first client uploads, the others decline; every start message is acknowledged.
        const [first, ...others] = users;
        const trigger = others.pop()!;
        await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE', 60_000);
        for (const user of users) {
          for (const task of await get(user, 0)) {
            if (task.state === null) {
              expect((await ack(server, user.token, task.id)).status).toBe(200);
            }
          }
        }
        const uploaded = await request(server)
          .post(`/api/models/${await trainingModel(server, actorAuth, trainingId)}/`)
          .set('Authorization', `Token ${first!.token}`)
          .field('round', '0')
          .field('sample_size', '10')
          .attach('model_file', fixture('mlp-client-a.onnx'), 'update.onnx');
        expect(uploaded.status).toBe(201);
        for (const user of others) {
          expect((await declineRound(server, user.token, trainingId, 0)).status).toBe(200);
        }
        // 500 long-polls wait, holding no database connection; then the last decline ends round 0.
        const waiting = [first!, ...others].map((user) => get(user, 60));
        await until(() => api.tasks.waitingReceivers() === 500);
        expect((await declineRound(server, trigger.token, trainingId, 0)).status).toBe(200);
        const answers = await Promise.all(waiting);
        for (const answer of answers) {
          expect(answer).toEqual([expect.objectContaining({ notification_type: 'UPDATE_ROUND_START', round: 1 })]);
        }
        expect(api.tasks.waitingReceivers()).toBe(0);
        await request(server).delete(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
      } finally {
        httpServer.closeAllConnections();
        await new Promise((resolve) => httpServer.close(resolve));
      }
    }, 10);
    // The setup goes one request at a time (501 users, their acks, 499 declines, each a Temporal Update): 36 s alone
    // on 2 cores on a slow day, past jest's 60 s beside CI's other test worker. What is asserted is not a time.
  }, 240_000);

  it('when clients decline, the update round and the test round end before their ten-minute deadlines; an ack ends nothing', async () => {
    await withTraining(async (_api, server) => {
      const behaviour: ClientBehaviour = { silent: ['b', 'c'], accuracy: { a: 0.9, b: 0.6 } };
      const clients = track(await registerClients(server, 'decline', behaviour));
      const [a, b, c] = [clients[0]!, clients[1]!, clients[2]!];
      const { actorAuth, trainingId } = await createTraining(server, 'decline', clients, 1, {
        options: { round_timeout: 600, test_timeout: 600 },
      });
      await startTraining(server, actorAuth, trainingId);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.received.join() === a.id);
      // b acknowledges its task: it is no longer listed, yet the round still waits for b.
      const task = await pullTask(server, b.token, 'UPDATE_ROUND_START');
      expect((await ack(server, b.token, task.id)).body).toMatchObject({ acknowledged: true, state: 'PENDING' });
      expect((await pull(server, b.token)).map((t) => t.id)).not.toContain(task.id);
      const stillWaiting = await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE');
      expect(stillWaiting.run?.missing.sort()).toEqual([b.id, c.id].sort());
      // An ack of an unknown task, and of someone else's, is a 404.
      expect((await ack(server, c.token, task.id)).status).toBe(404);
      await react(server, b, { ...task }, {});
      const declined = await declineRound(server, c.token, trainingId, 0, 'no new data');
      expect(declined.status).toBe(200);
      expect(declined.body).toMatchObject({ state: 'DONE', done_reason: 'declined', round: 0 });
      // Declining again answers as the first time; declining a done or absent task is a 409, a stranger's a 404.
      expect((await declineRound(server, c.token, trainingId, 0, 'again')).status).toBe(200);
      expect((await declineRound(server, a.token, trainingId, 0)).status).toBe(409);
      expect((await declineRound(server, a.token, trainingId, 7)).status).toBe(409);
      expect((await declineRound(server, a.token, trainingId, 0, 'x'.repeat(1001))).status).toBe(400);
      // The test round: a reports by push; b reports after pulling; c declines.
      await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'TEST');
      const test = await pullTask(server, b.token, 'MODEL_TEST_ROUND');
      await react(server, b, test, { accuracy: behaviour.accuracy });
      expect((await declineRound(server, c.token, trainingId, 1, 'busy')).status).toBe(200);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      const [round] = (
        await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', actorAuth)
      ).body as RoundView[];
      expect(round).toMatchObject({
        round: 0,
        state: 'DONE',
        produced: 1,
        update_count: 2,
        left_out: [
          { client: c.id, phase: 'update', reason: 'declined', message: 'no new data' },
          { client: c.id, phase: 'test', reason: 'declined', message: 'busy' },
        ],
      });
      // Weighted by the updates' sample sizes (a 3000, b 2000).
      expect(round!.metrics.accuracy!.mean).toBeCloseTo((0.9 * 3000 + 0.6 * 2000) / 5000, 12);
    });
  });

  it('the rounds view after a straggler and a decline: the actor sees every client, a participant its own entries and the aggregates', async () => {
    await withTraining(async (_api, server) => {
      const behaviour: ClientBehaviour = { silent: ['c'], pullOnly: ['d'], accuracy: { a: 0.8, b: 0.4 } };
      const specs = [
        { name: 'a', model: fixture('mlp-client-a.onnx'), samples: 3000 },
        { name: 'b', model: fixture('mlp-client-b.onnx'), samples: 1000 },
        { name: 'c', model: fixture('mlp-client-c.onnx'), samples: 1000 },
        { name: 'd', model: fixture('mlp-client-c.onnx'), samples: 1000 },
      ];
      const clients = track(await registerClients(server, 'view', behaviour, specs));
      const [a, b, c, d] = clients as [SimulatedClient, SimulatedClient, SimulatedClient, SimulatedClient];
      const { actorAuth, trainingId, modelId } = await createTraining(server, 'view', clients, 1, {
        options: { round_timeout: 4, test_timeout: 4, min_clients: 2 },
      });
      await startTraining(server, actorAuth, trainingId);
      await pullUntilFinished(server, d, behaviour, true);
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      const actorView = (
        await request(server).get(`/api/trainings/${trainingId}/rounds/0/`).set('Authorization', actorAuth)
      ).body as RoundView;
      expect(actorView).toMatchObject({
        round: 0,
        state: 'DONE',
        started_from: 0,
        produced: 1,
        asked: 4,
        update_count: 2,
        sample_size_total: 4000,
        test: { round: 1, reported: 2 },
        swag: null,
      });
      expect(actorView.round_id).toBeGreaterThan(0);
      // One round reads only its rows: the same view as the whole list's.
      const listed = (await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', actorAuth))
        .body as RoundView[];
      expect(listed).toEqual([actorView]);
      expect(actorView.updates.map((u) => u.client).sort()).toEqual([a.id, b.id].sort());
      expect(actorView.left_out).toEqual(
        expect.arrayContaining([
          { client: c.id, phase: 'update', reason: 'deadline', message: null },
          { client: d.id, phase: 'update', reason: 'declined', message: 'no data this round' },
          { client: c.id, phase: 'test', reason: 'deadline', message: null },
          { client: d.id, phase: 'test', reason: 'declined', message: 'no data this round' },
        ]),
      );
      expect(actorView.left_out).toHaveLength(4);
      const { mean, ...figures } = actorView.metrics.accuracy!;
      expect(mean).toBeCloseTo(0.7, 12);
      expect(figures).toEqual({ min: 0.4, max: 0.8, count: 2, weighted: true });
      expect(actorView.client_metrics.map((m) => m.client).sort()).toEqual([a.id, b.id].sort());
      // The participant: the same aggregates, its own entries, nobody else's identity or values.
      const res = await request(server)
        .get(`/api/trainings/${trainingId}/rounds/`)
        .set('Authorization', `Token ${b.token}`);
      const [mine] = res.body as RoundView[];
      expect(mine).toMatchObject({ round_id: actorView.round_id, update_count: 2, metrics: actorView.metrics });
      expect(mine!.updates).toEqual([expect.objectContaining({ client: b.id, sample_size: 1000 })]);
      expect(mine!.left_out).toEqual([]);
      expect(mine!.client_metrics).toEqual([{ client: b.id, phase: 'test', name: 'accuracy', value: 0.4 }]);
      for (const other of [a, c, d]) {
        expect(JSON.stringify(res.body)).not.toContain(other.id);
      }
      // The straggler sees its own absence; a stranger sees nothing; an unknown round is a 404.
      const straggler = (
        await request(server).get(`/api/trainings/${trainingId}/rounds/0/`).set('Authorization', `Token ${c.token}`)
      ).body as RoundView;
      expect(straggler.left_out.map((l) => l.reason)).toEqual(['deadline', 'deadline']);
      const stranger = await buildStranger(server);
      expect(
        (await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', stranger)).status,
      ).toBe(404);
      expect(
        (await request(server).get(`/api/trainings/${trainingId}/rounds/5/`).set('Authorization', actorAuth)).status,
      ).toBe(404);
      void modelId;
    });
  });
});

/** A registered user with no relation to anything. */
async function buildStranger(server: Handler): Promise<string> {
  const res = await request(server)
    .post('/api/users/')
    .send({ username: `stranger-${Date.now()}`, password: 'pw-123456' });
  return `Token ${(res.body as { token: string }).token}`;
}

/** The global model of a training. */
async function trainingModel(server: Handler, auth: string, trainingId: string): Promise<string> {
  const res = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', auth);
  return (res.body as { model: string }).model;
}

async function until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error('condition never held');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

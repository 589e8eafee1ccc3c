import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { createNotificationActivities, notificationId } from '../../src/activities/notification-activities';
import { Notification } from '../../src/db/models/notification';
import { Round } from '../../src/db/models/round';
import { closeWaitTasks } from '../../src/db/queries/tasks';
import { insertUpload } from '../../src/db/queries/uploads';
import { createLogger } from '../../src/logger';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createTestKnex } from '../support/db';

/** Every receiver a test opened; closed after each test, whether it passed or not. */
const openServers: http.Server[] = [];

async function receiver(status: number, delayMs = 0): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      hits.push(body);
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  openServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, hits };
}

describe('sendNotifications activity', () => {
  let knex: Knex;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  afterEach(async () => {
    const servers = openServers.splice(0);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  });

  it('when endpoints answer, fail or are absent, stores each delivery state, reports the unreachable, and never pushes twice', async () => {
    const ok = await receiver(200);
    const failing = await receiver(500);
    const actor = await buildUser(knex);
    const reachable = await buildUser(knex, { messageEndpoint: ok.url });
    const broken = await buildUser(knex, { messageEndpoint: failing.url });
    const puller = await buildUser(knex);
    const training = await buildTraining(knex, actor.id, (await buildGlobalModel(knex, actor.id)).id);
    const { sendNotifications } = createNotificationActivities({
      knex,
      logger: createLogger('error'),
      delivery: { timeoutMs: 2_000, attempts: 2, backoffMs: 10, concurrency: 4, allowPrivateAddresses: true },
    });
    const input = {
      trainingId: training.id,
      key: 'UPDATE_ROUND_START:0',
      type: 'UPDATE_ROUND_START' as const,
      receivers: [reachable.id, broken.id, puller.id],
      body: { round: 0, global_model_uuid: training.modelId },
    };
    const env = new MockActivityEnvironment();
    const first = await env.run(sendNotifications, input);
    expect(first).toEqual({ undeliverable: [broken.id] });
    expect(ok.hits.map((b) => JSON.parse(b) as unknown)).toEqual([
      { notification_type: 'UPDATE_ROUND_START', body: input.body, training_uuid: training.id },
    ]);
    expect(failing.hits).toHaveLength(2);

    const rows = await Notification.query(knex).where({ trainingId: training.id });
    const byReceiver = Object.fromEntries(rows.map((r) => [r.receiverId, r]));
    expect(byReceiver[reachable.id]).toMatchObject({ deliveryState: 'DELIVERED', attempts: 1, lastError: null });
    expect(byReceiver[broken.id]).toMatchObject({
      deliveryState: 'FAILED',
      attempts: 2,
      lastError: 'The endpoint answered HTTP 500',
    });
    expect(byReceiver[puller.id]).toMatchObject({ deliveryState: 'PULL', attempts: 0 });
    // A round start is a task: an input from before inputs named the round takes it from the body; the round is made.
    for (const row of rows) {
      expect(row).toMatchObject({ round: 0, taskState: 'PENDING', doneReason: null, deadline: null });
    }
    expect(new Set(rows.map((r) => r.taskId)).size).toBe(3);
    expect(await Round.query(knex).where({ trainingId: training.id })).toEqual([
      expect.objectContaining({ number: 0 }),
    ]);
    expect(byReceiver[reachable.id]?.id).toBe(notificationId(training.id, input.key, reachable.id));

    // A retried activity (same key) finds its rows: nothing is pushed again and the answer is the same.
    await expect(env.run(sendNotifications, input)).resolves.toEqual({ undeliverable: [broken.id] });
    expect(ok.hits).toHaveLength(1);
    expect(failing.hits).toHaveLength(2);
    expect(await Notification.query(knex).where({ trainingId: training.id })).toHaveLength(3);
  });

  it("when a wait ends, closes its tasks with the run's reasons; a client whose upload came first gets its task done", async () => {
    const actor = await buildUser(knex);
    const [uploaded, declined, removed, late, early] = await Promise.all(
      Array.from({ length: 5 }, () => buildUser(knex)),
    );
    const training = await buildTraining(knex, actor.id, (await buildGlobalModel(knex, actor.id)).id);
    // The early client's update is stored before the round start (as while the previous version is tested).
    await insertUpload(
      knex,
      { trainingId: training.id, round: 2, clientId: early!.id, phase: 'update' },
      {
        contentDigest: 'e'.repeat(64),
        modelId: null,
        blobDigest: 'f'.repeat(64),
        secondBlobDigest: null,
        sampleSize: 10,
      },
    );
    const { sendNotifications } = createNotificationActivities({
      knex,
      logger: createLogger('error'),
      delivery: { timeoutMs: 2_000, attempts: 1, backoffMs: 10, concurrency: 4, allowPrivateAddresses: true },
    });
    const ids = [uploaded, declined, removed, late, early].map((u) => u!.id);
    const deadline = '2030-01-01T00:00:00.000Z';
    await new MockActivityEnvironment().run(sendNotifications, {
      trainingId: training.id,
      key: 'UPDATE_ROUND_START:2',
      type: 'UPDATE_ROUND_START' as const,
      receivers: ids,
      body: { round: 2, global_model_uuid: training.modelId },
      round: 2,
      deadline,
    });
    const state = async () =>
      Object.fromEntries(
        (await Notification.query(knex).where({ trainingId: training.id })).map((r) => [
          r.receiverId,
          [r.taskState, r.doneReason, r.doneMessage, r.deadline?.toISOString()],
        ]),
      );
    expect((await state())[early!.id]).toEqual(['DONE', 'uploaded', null, deadline]);
    expect((await state())[late!.id]).toEqual(['PENDING', null, null, deadline]);
    await closeWaitTasks(knex, {
      trainingId: training.id,
      round: 2,
      type: 'UPDATE_ROUND_START',
      received: [uploaded!.id, early!.id],
      declined: { [declined!.id]: 'no data' },
      participants: [uploaded!.id, declined!.id, late!.id, early!.id],
    });
    expect(await state()).toEqual({
      [uploaded!.id]: ['DONE', 'uploaded', null, deadline],
      [declined!.id]: ['DONE', 'declined', 'no data', deadline],
      [removed!.id]: ['DONE', 'removed', null, deadline],
      [late!.id]: ['DONE', 'deadline', null, deadline],
      [early!.id]: ['DONE', 'uploaded', null, deadline],
    });
  });

  it('when private addresses are not allowed, a loopback endpoint is unreachable without any request made', async () => {
    const ok = await receiver(200);
    const actor = await buildUser(knex);
    const local = await buildUser(knex, { messageEndpoint: ok.url });
    const training = await buildTraining(knex, actor.id, (await buildGlobalModel(knex, actor.id)).id);
    const { sendNotifications } = createNotificationActivities({
      knex,
      logger: createLogger('error'),
      delivery: { timeoutMs: 2_000, attempts: 1, backoffMs: 10, concurrency: 4, allowPrivateAddresses: false },
    });
    const result = await new MockActivityEnvironment().run(sendNotifications, {
      trainingId: training.id,
      key: 'TRAINING_START:0',
      type: 'TRAINING_START' as const,
      receivers: [local.id],
      body: { global_model_uuid: training.modelId },
    });
    expect(result).toEqual({ undeliverable: [local.id] });
    expect(ok.hits).toEqual([]);
    const [row] = await Notification.query(knex).where({ trainingId: training.id });
    expect(row?.lastError).toMatch(/loopback address 127\.0\.0\.1/);
  });

  it('when pushes take long, heartbeats all along, so only a dead worker (not a slow endpoint) times the activity out', async () => {
    const slow = await receiver(200, 1_200);
    const actor = await buildUser(knex);
    const clients = [
      await buildUser(knex, { messageEndpoint: slow.url }),
      await buildUser(knex, { messageEndpoint: slow.url }),
    ];
    const training = await buildTraining(knex, actor.id, (await buildGlobalModel(knex, actor.id)).id);
    const { sendNotifications } = createNotificationActivities({
      knex,
      logger: createLogger('error'),
      delivery: { timeoutMs: 5_000, attempts: 1, backoffMs: 10, concurrency: 1, allowPrivateAddresses: true },
      heartbeatEveryMs: 200,
    });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const result = await env.run(sendNotifications, {
      trainingId: training.id,
      key: 'UPDATE_ROUND_START:0',
      type: 'UPDATE_ROUND_START' as const,
      receivers: clients.map((c) => c.id),
      body: { round: 0, global_model_uuid: training.modelId },
    });
    expect(result).toEqual({ undeliverable: [] });
    expect(slow.hits).toHaveLength(2);
    // Two successful pushes one after the other, 1.2 s each, and about a dozen beats while they wait (a success
    // alone never beat before).
    expect(beats.length).toBeGreaterThanOrEqual(6);
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  HttpClient,
  isApiError,
  PushReceiver,
  RoundhouseClient,
  runFlClient,
  type FlClientEvent,
  type FlTask,
  type User,
} from '../../src/client';
import { signNotification } from '../../src/notifications/signature';
import type { TestApi } from '../fixtures/api-app';
import { FIXTURES, fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import { createTrainingApi, createTrainingWorker, expectedVersions } from '../support/training-scenario';

/** Serves the test API on a real loopback port. */
async function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A real HTTP proxy in front of the server that answers the first update upload with 503 and `Retry-After: 1`, as
 * the API does while Temporal is down, and forwards everything else.
 */
function unavailableOnce(target: string, answered: string[]): http.RequestListener {
  let refused = false;
  return (req, res) => {
    const isUpdate = req.method === 'POST' && /^\/api\/models\/[^/]+\/$/.test(req.url ?? '');
    if (isUpdate && !refused) {
      refused = true;
      answered.push(`503 ${req.url ?? ''}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ detail: 'Temporal is unavailable.', code: 'service_unavailable' }));
      });
      return;
    }
    const upstream = http.request(
      `${target}${req.url ?? ''}`,
      { method: req.method, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    req.pipe(upstream);
  };
}

describe('the client SDK against a real server', () => {
  let temporal: TestTemporal;
  let api: TestApi;
  let server: { url: string; close(): Promise<void> };
  let stopWorker: () => Promise<void>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    const taskQueue = uniqueTaskQueue('sdk');
    api = await createTrainingApi(taskQueue);
    const app = api.app.callback();
    server = await listen((req, res) => void app(req, res));
    const worker = await createTrainingWorker(temporal, api, taskQueue);
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
    };
  });

  afterAll(async () => {
    await stopWorker();
    await server.close();
    await api.close();
    await temporal.close();
  });

  it('runs a whole training: clients pulling and pushed, an upload retried after a 503, the engine aggregate at the end', async () => {
    const anonymous = new RoundhouseClient({ baseUrl: server.url });
    const actorUser = await anonymous.users.register({ username: 'sdk-actor', password: 'sdk-secret-1', actor: true });
    // The actor signs in with Basic authentication, as the reference client does; the clients with their tokens.
    const actor = anonymous.as({ username: 'sdk-actor', password: 'sdk-secret-1' });
    expect((await actor.users.me()).id).toBe(actorUser.id);

    // Client c's receiver listens before it registers (the endpoint is part of the registration); its secret comes
    // with the registration's answer.
    const receiver = new PushReceiver({ secret: '' });
    const endpoint = await receiver.listen();
    const names = ['a', 'b', 'c'] as const;
    const users: User[] = [];
    for (const name of names) {
      users.push(
        await anonymous.users.register({
          username: `sdk-client-${name}`,
          password: 'sdk-secret-1',
          client: true,
          // Client c is pushed to; a and b pull.
          ...(name === 'c' ? { message_endpoint: endpoint } : {}),
        }),
      );
    }
    const pushed = users[2];
    if (pushed?.notification_secret === undefined) {
      throw new Error('registration answers the notification secret');
    }
    receiver.setSecret(pushed.notification_secret);
    const pushes: string[] = [];
    receiver.onNotification((notification) => pushes.push(notification.notification_type));

    const progress: number[] = [];
    const modelId = await actor.models.upload({
      file: { path: path.join(FIXTURES, 'mlp-global-r0.onnx') },
      name: 'mlp',
      description: 'an MNIST MLP',
      inputShape: [null, 1, 28, 28],
      onProgress: (sent) => progress.push(sent),
    });
    expect(progress.at(-1)).toBeGreaterThan(fixture('mlp-global-r0.onnx').length);
    expect((await actor.models.metadata(modelId)).input_shape).toEqual([null, 1, 28, 28]);
    const trainingId = await actor.trainings.create({
      model_id: modelId,
      target_num_updates: 1,
      metric_names: ['accuracy'],
      aggregation_method: 'FedAvg',
      uncertainty_method: 'NONE',
      options: { round_timeout: 120, test_timeout: 120 },
      clients: users.map((user) => user.id),
    });

    const proxyAnswers: string[] = [];
    const proxy = await listen(unavailableOnce(server.url, proxyAnswers));
    const retries: string[] = [];
    const events: FlClientEvent[] = [];
    const samples = { a: 3000, b: 2000, c: 1000 };
    const loops = names.map((name, i) => {
      const token = users[i]?.token ?? '';
      const client = new RoundhouseClient(
        new HttpClient({
          baseUrl: name === 'a' ? proxy.url : server.url,
          credentials: { token },
          retry: { baseDelayMs: 100 },
          onRetry: (retry) => retries.push(`${name}: ${retry.request} ${retry.reason}`),
        }),
      );
      return runFlClient({
        client,
        trainings: [trainingId],
        pollSeconds: 5,
        ...(name === 'c' ? { receiver } : {}),
        train: async (model: Buffer, task: FlTask) => {
          // The model downloaded is the global model of the round.
          expect(model.equals(fixture('mlp-global-r0.onnx'))).toBe(task.round === 0);
          return Promise.resolve({ weights: fixture(`mlp-client-${name}.onnx`), sampleSize: samples[name] });
        },
        evaluate: () => Promise.resolve({ accuracy: 0.75 }),
        onEvent: (event) => events.push(event),
      });
    });
    await actor.trainings.start(trainingId);
    await Promise.all(loops);
    await proxy.close();
    await receiver.close();

    const training = await actor.trainings.get(trainingId);
    expect(training.state).toBe('C');
    expect(events.filter((event) => event.kind === 'error')).toEqual([]);
    expect(
      events
        .filter((event) => event.kind === 'uploaded')
        .map((event) => 'task' in event && event.task.type)
        .sort(),
    ).toEqual([
      'MODEL_TEST_ROUND',
      'MODEL_TEST_ROUND',
      'MODEL_TEST_ROUND',
      'UPDATE_ROUND_START',
      'UPDATE_ROUND_START',
      'UPDATE_ROUND_START',
    ]);
    // Client a's update met one 503 and went through on the retry; the server holds it once.
    expect(proxyAnswers).toHaveLength(1);
    expect(retries).toEqual([`a: POST /api/models/${modelId}/ 503`]);
    const rounds = await actor.trainings.rounds(trainingId);
    expect(rounds[0]?.updates).toHaveLength(3);
    // A page: the rounds from the one after the last, none; the first one alone.
    expect(await actor.trainings.rounds(trainingId, { from: rounds.length })).toEqual([]);
    expect(await actor.trainings.rounds(trainingId, { from: 0, limit: 1 })).toEqual(rounds.slice(0, 1));
    // Client c heard of its work by push (signed with its secret), the others by pulling.
    expect(receiver.refused).toBe(0);
    expect(pushes).toEqual(expect.arrayContaining(['TRAINING_START', 'UPDATE_ROUND_START', 'MODEL_TEST_ROUND']));
    const clients = names.map((name, i) => ({
      id: users[i]?.id ?? '',
      samples: samples[name],
      model: fixture(`mlp-client-${name}.onnx`),
    }));
    const [aggregate] = await expectedVersions(clients, 1);
    expect((await actor.models.download(modelId, { round: 1 })).equals(aggregate ?? Buffer.alloc(0))).toBe(true);
    // Streamed to disk with progress against the announced length.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sdk-')), 'round1.onnx');
    const seen: Array<[number, number | undefined]> = [];
    const written = await actor.models.downloadTo(modelId, file, { round: 1, onProgress: (d, t) => seen.push([d, t]) });
    expect(readFileSync(file).equals(aggregate ?? Buffer.alloc(0))).toBe(true);
    expect(seen.at(-1)).toEqual([written, written]);
  }, 120_000);

  it('refuses a push with a wrong signature, and one that is too old, and hands on a right one once', async () => {
    const receiver = new PushReceiver({ secret: 'right-secret' });
    const endpoint = await receiver.listen();
    const got: string[] = [];
    receiver.onNotification((notification) => got.push(notification.notification_type));
    const body = JSON.stringify({ notification_type: 'TRAINING_START', training_uuid: 'a-training', body: {} });
    const push = (secret: string, timestamp: number, id = 'n-1') =>
      fetch(endpoint, {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          'X-Roundhouse-Notification-Id': id,
          'X-Roundhouse-Timestamp': String(timestamp),
          'X-Roundhouse-Signature': signNotification(secret, String(timestamp), body),
        },
      });
    const now = Math.floor(Date.now() / 1000);
    expect((await push('wrong-secret', now)).status).toBe(401);
    expect((await push('right-secret', now - 3600)).status).toBe(401);
    expect((await push('right-secret', now)).status).toBe(200);
    expect((await push('right-secret', now)).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual(['TRAINING_START']);
    expect(receiver.refused).toBe(2);
    await receiver.close();
  });

  it('answers a refusal as RoundhouseApiError with the status, detail and reason, without retrying it', async () => {
    const retries: string[] = [];
    const client = new RoundhouseClient({ baseUrl: server.url, onRetry: (retry) => retries.push(retry.reason) });
    const user = await client.users.register({ username: 'sdk-refused', password: 'sdk-secret-1', actor: true });
    const owner = client.as({ token: user.token ?? '' });
    const refused = await owner.models
      .upload({ file: readFileSync(path.join(FIXTURES, 'torch/refused-code-on-load.pt')), name: 'bad' })
      .catch((error: unknown) => error);
    expect(isApiError(refused, 400, 'torch_pickle_global')).toBe(true);
    expect(isApiError(refused) && refused.detail).toMatch(/^Invalid model file: .*posix\.system/);
    expect(retries).toEqual([]);
  });

  it('gives up on a server that is not there after the attempts its policy allows, for a request safe to repeat', async () => {
    const closed = await listen(() => undefined);
    await closed.close();
    const retries: number[] = [];
    const client = new RoundhouseClient({
      baseUrl: closed.url,
      retry: { attempts: 3, baseDelayMs: 10 },
      onRetry: (retry) => retries.push(retry.attempt),
    });
    await expect(client.users.list()).rejects.toMatchObject({ name: 'RoundhouseConnectionError' });
    expect(retries).toEqual([2, 3]);
    // Not safe to repeat: a registration is sent once.
    retries.length = 0;
    await expect(client.users.register({ username: 'x', password: 'y' })).rejects.toMatchObject({
      name: 'RoundhouseConnectionError',
    });
    expect(retries).toEqual([]);
  });
});

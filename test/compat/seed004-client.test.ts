import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import type { TestApi } from '../fixtures/api-app';
import { safetensorsFile, smallDataset } from '../fixtures/datasets';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import {
  type ClientBehaviour,
  createTraining,
  createTrainingApi,
  createTrainingWorker,
  registerClients,
  registerUser,
  startTraining,
  waitForTraining,
} from '../support/training-scenario';
import { type ClientErrorDict, requirePython, Seed004Driver } from './seed004-driver';

const PASSWORD = 'pw-123456';

/** The error dict the client builds for an answer with `code`, whose `details` is our JSON error with `detail`. */
function errorDict(code: number, detail: string | RegExp): Partial<Record<keyof ClientErrorDict, unknown>> {
  return {
    status: 'error',
    code,
    details: expect.stringMatching(typeof detail === 'string' ? new RegExp(escape(detail)) : detail) as unknown,
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A job id once `ping` answers one (the run sends the task a moment after the previous phase ends). */
async function pingUntilJob(driver: Seed004Driver, name: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = await driver.call(name, 'ping');
    if (typeof job === 'number') {
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`no job for ${name}: ping answered ${JSON.stringify(job)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the seed-004 job-server client, unchanged, against Roundhouse', () => {
  let temporal: TestTemporal;
  let api: TestApi;
  let worker: Worker;
  let httpServer: http.Server;
  let host: string;
  let driver: Seed004Driver;
  let tmp: string;
  let running: Promise<void>;
  let stopWorker: () => void;

  beforeAll(async () => {
    requirePython();
    temporal = await connectTestTemporal();
    const taskQueue = uniqueTaskQueue('seed004');
    api = await createTrainingApi(taskQueue);
    worker = await createTrainingWorker(temporal, api, taskQueue);
    running = worker.runUntil(new Promise<void>((resolve) => (stopWorker = resolve)));
    const handle = api.app.callback();
    httpServer = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`;
    driver = new Seed004Driver();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-seed004-'));
  });

  afterAll(async () => {
    await driver.close();
    await new Promise((resolve) => httpServer.close(resolve));
    stopWorker();
    await running;
    await api.close();
    await temporal.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('logs in, keeps groups, works a job of a real training, reads the round and datasets, and gets each refusal as its error dict', async () => {
    const server = api.app.callback();
    const suffix = Date.now().toString(36);
    const actor = await registerUser(server, `s4-actor-${suffix}`, { actor: true });
    const me = await registerUser(server, `s4-worker-${suffix}`, { client: true });
    const joiner = await registerUser(server, `s4-joiner-${suffix}`, { client: true });

    // The constructor logs in: env.json/, then accounts/login/ and its redirect to ok.json, then env.json/ again.
    await driver.connect('actor', `s4-actor-${suffix}`, PASSWORD, host);
    await driver.connect('worker', `s4-worker-${suffix}`, PASSWORD, host);
    await driver.connect('joiner', `s4-joiner-${suffix}`, PASSWORD, host);
    expect(await driver.run({ op: 'load', name: 'worker', path: 'env.json/' })).toMatchObject({
      user: `s4-worker-${suffix}`,
    });
    expect(await driver.run({ op: 'load', name: 'worker', path: 'ok.json' })).toEqual({
      status: 'ok',
      user: `s4-worker-${suffix}`,
    });

    // Groups: a name quote_plus writes with + and %2B; a private one.
    const crew = `seed 004+crew ${suffix}`;
    expect(await driver.call('actor', 'add_group', crew, true)).toMatchObject({ name: crew, public: true });
    expect(await driver.call('actor', 'add_group', `private ${suffix}`, false)).toMatchObject({ public: false });
    expect(await driver.call('joiner', 'join_group', crew)).toMatchObject({ name: crew });
    const groups = (await driver.call('joiner', 'list_groups')) as Record<string, { id: number; member: boolean }>;
    expect(groups[crew]).toMatchObject({ member: true, public: true });
    expect(groups[`private ${suffix}`]).toBeUndefined();
    expect(await driver.call('joiner', 'join_group', `private ${suffix}`)).toMatchObject(errorDict(403, 'is private'));

    // A real training of the worker and a pushed client held back, open to the crew.
    let release = (): void => undefined;
    const behaviour: ClientBehaviour = { gate: new Promise<void>((resolve) => (release = resolve)) };
    const [held] = await registerClients(server, `s4-${suffix}`, behaviour, [
      { name: 'a', model: fixture('mlp-client-a.onnx'), samples: 3000 },
    ]);
    const participants = [held!, me];
    const { actorAuth, modelId, trainingId } = await createTraining(server, `s4-${suffix}`, participants, 1, {
      actor,
      group: groups[crew]!.id,
    });
    try {
      await startTraining(server, actorAuth, trainingId);

      const job = await pingUntilJob(driver, 'worker');
      const params = (await driver.call('worker', 'get_job_params', job)) as {
        params: { round: number; round_id: number; model_url: string; upload_url: string };
      };
      expect(params).toMatchObject({
        algorithm: 'FedAvg',
        dataset: null,
        params: {
          type: 'UPDATE_ROUND_START',
          training: trainingId,
          round: 0,
          model_id: modelId,
          model_url: `/actions/get_model/${modelId}/`,
          upload_url: `/api/models/${modelId}/`,
        },
      });
      const model = (await driver.run({
        op: 'load',
        name: 'worker',
        path: params.params.model_url,
        kwargs: { raw: true },
      })) as { bytes_base64: string };
      expect(Buffer.from(model.bytes_base64, 'base64').equals(fixture('mlp-global-r0.onnx'))).toBe(true);

      // Another user's job is not there for them.
      expect(await driver.call('joiner', 'get_job_params', job)).toMatchObject(errorDict(404, `Job ${job} not found.`));

      // The update goes to the REST API with the client's own session and CSRF token.
      const updateFile = path.join(tmp, 'update.onnx');
      await fs.writeFile(updateFile, fixture('mlp-client-b.onnx'));
      expect(
        await driver.run({
          op: 'upload_update',
          name: 'worker',
          model_id: modelId,
          round: 0,
          sample_size: 2000,
          path: updateFile,
        }),
      ).toMatchObject({ status: 201 });
      expect(await driver.call('worker', 'ping')).toBeNull();

      // Results after the upload closed the task, while the round is current (the held client has not uploaded).
      const details = await driver.callWith('worker', 'update_job_details', [job, 0.91, 0.88, [1, 2], [3], [4, 5]], {
        extra_scores_test: { f1: 0.5 },
        message: 'trained on 2000 digits',
      });
      expect(details).toEqual({ detail: 'Job details recorded.' });
      const picture = path.join(tmp, 'plot.png');
      await fs.writeFile(picture, Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 7)]));
      expect(await driver.call('worker', 'add_job_picture', job, picture)).toEqual({ detail: 'Job picture recorded.' });
      const svg = path.join(tmp, 'plot.svg');
      await fs.writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
      expect(await driver.call('worker', 'add_job_picture', job, svg)).toMatchObject(errorDict(400, 'SVG'));
      const metrics = await request(server)
        .get(`/api/models/${modelId}/metrics/`)
        .set('Authorization', `Token ${me.token}`);
      const byKey = new Map((metrics.body as Array<{ key: string; step: number }>).map((m) => [m.key, m]));
      for (const key of ['test/score', 'validation/score', 'test/f1', 'labels/training', 'labels/test', 'message']) {
        expect(byKey.get(key)).toMatchObject({ step: 0 });
      }
      expect(byKey.has('picture/plot.png')).toBe(true);
      expect(byKey.has('validation/f1')).toBe(false);

      // The joiner, a member of the crew, joins the training through the round it reads.
      const round = (await driver.call('joiner', 'get_round', params.params.round_id)) as { round: number };
      expect(round).toMatchObject({ round: 0, round_id: params.params.round_id });
      const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
      expect((training.body as { participants: string[] }).participants).toContain(joiner.id);

      // The held client uploads; aggregation ends round 0; the test round's job takes the results as test metrics.
      release();
      const testJob = await pingUntilJob(driver, 'worker');
      expect(await driver.call('worker', 'get_job_params', testJob)).toMatchObject({
        params: { type: 'MODEL_TEST_ROUND', upload_url: `/api/models/${modelId}/metrics/` },
      });
      // A picture first does not fill the test slot: the scores after it still do.
      expect(await driver.call('worker', 'add_job_picture', testJob, picture)).toEqual({
        detail: 'Job picture recorded.',
      });
      expect(await driver.call('worker', 'update_job_details', testJob, 0.93, 0.9, [], [], [])).toEqual({
        detail: 'Job details recorded.',
      });
      await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
      expect(await driver.call('worker', 'get_round', params.params.round_id)).toMatchObject({
        metrics: { 'test/score': { count: 1 } },
        client_metrics: expect.arrayContaining([
          { client: me.id, phase: 'test', name: 'test/score', value: 0.93 },
        ]) as unknown,
      });
      expect(await driver.call('worker', 'update_job_details', job, 0.5, 0.5, [], [], [])).toMatchObject(
        errorDict(409, 'is over'),
      );
    } finally {
      await held!.receiver.close();
    }

    // Datasets: the actor's own, point by point.
    const upload = await request(server)
      .post('/api/datasets/')
      .set('Authorization', actorAuth)
      .field('name', 'digits')
      .field('description', 'held-out digits')
      .attach('file', safetensorsFile(smallDataset(3)), 'data.safetensors');
    expect(upload.status).toBe(201);
    const datasetId = (upload.body as { id: number }).id;
    expect(await driver.call('actor', 'get_datasets')).toMatchObject({
      [String(datasetId)]: {
        name: 'digits',
        rows: 3,
        url: `/actions/get_dataset_points/${datasetId}.json/`,
        cut: false,
      },
    });
    const points = (await driver.call('actor', 'get_dataset_points', datasetId)) as Array<{ index: number }>;
    expect(points.map((p) => p.index)).toEqual([0, 1, 2]);
    expect(await driver.call('worker', 'get_datasets')).toEqual({});

    // Refusals, each as the client's error dict.
    expect(
      await driver.run({
        op: 'load',
        name: 'worker',
        path: 'accounts/login/?next=%2Fok.json',
        kwargs: { username: `s4-worker-${suffix}`, password: 'wrong' },
      }),
    ).toMatchObject(errorDict(401, /./));
    await driver.run({ op: 'without_csrf_field', name: 'worker' });
    expect(await driver.call('worker', 'ping')).toMatchObject(errorDict(403, 'CSRF token missing'));
    await driver.run({ op: 'restore_opener', name: 'worker' });
    await driver.run({ op: 'set_csrf_cookie', name: 'worker', value: 'x'.repeat(43) });
    expect(await driver.call('worker', 'ping')).toMatchObject(errorDict(403, 'CSRF token from the'));
    await driver.run({ op: 'forget_csrf', name: 'worker' });
    expect(await driver.call('worker', 'ping')).toMatchObject(errorDict(405, /./));
  });

  it('declines a job when the client reports success=False, reading None and null as absent', async () => {
    const server = api.app.callback();
    const suffix = Date.now().toString(36);
    const me = await registerUser(server, `s4-decliner-${suffix}`, { client: true });
    await driver.connect('decliner', `s4-decliner-${suffix}`, PASSWORD, host);
    const { trainingId, actorAuth } = await createTraining(server, `s4d-${suffix}`, [me], 1, {
      options: { skip_model_tests: true },
    });
    await startTraining(server, actorAuth, trainingId);
    const job = await pingUntilJob(driver, 'decliner');
    const { params } = (await driver.call('decliner', 'get_job_params', job)) as { params: { round_id: number } };
    const declined = await driver.callWith('decliner', 'update_job_details', [job, null, null, null, null, null], {
      message: 'no data this round',
      success: false,
    });
    expect(declined).toEqual({ detail: 'Job declined.' });
    expect(await driver.call('decliner', 'ping')).toBeNull();
    expect(await driver.call('decliner', 'get_round', params.round_id)).toMatchObject({
      left_out: [{ client: me.id, phase: 'update', reason: 'declined', message: 'no data this round' }],
    });
  });
});

/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { WorkflowNotFoundError } from '@temporalio/client';
import * as ort from 'onnxruntime-node';
import request from 'supertest';
import { z } from 'zod';
import { findUserByUsername } from '../../src/db/queries/users';
import { createLogger } from '../../src/logger';
import { trainingWorkflowId } from '../../src/workflows/training/definitions';
import { buildApiUser, createTestApi, errorOf, rowCounts, tokenAuth, type TestApi } from '../fixtures/api-app';
import { captureLog } from '../support/log-capture';

const dummyBody = z.object({
  message: z.string(),
  training_uuid: z.uuid(),
  user_uuid: z.uuid(),
  user_credentials: z.object({ username: z.string(), password: z.string(), token: z.string().regex(/^[0-9a-f]{40}$/) }),
  participants: z.array(z.uuid()),
});
type DummyBody = z.output<typeof dummyBody>;

const metricList = z.array(
  z.object({
    identifier: z.string().nullable(),
    key: z.string(),
    value_float: z.number(),
    step: z.number(),
    model: z.uuid(),
    reporter: z.uuid(),
  }),
);

/** Rows one call adds: dummy-user, 5 clients, the model and its version, the training, 2 metrics × 80 rounds × 5. */
const ONE_DEMO = {
  users: 6,
  groups: 0,
  models: 1,
  model_versions: 1,
  trainings: 1,
  training_participants: 5,
  uploads: 0,
  metrics: 800,
};

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('GET /api/dummy/ when ROUNDHOUSE_DEMO_DATA is off (the default)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it.each(['/api/dummy/', '/api/dummy'])(
    'when %s is asked for, answers 404 JSON as any unknown path and writes nothing',
    async (path) => {
      const before = await rowCounts(api.knex);
      const res = await request(api.app.callback()).get(path);
      expect(res.status).toBe(404);
      expect(errorOf(res.body)).toEqual({ detail: 'Not found.', code: 'not_found' });
      expect(await rowCounts(api.knex)).toEqual(before);
    },
  );

  it('when the OpenAPI document is read, it does not name /api/dummy/', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    expect(Object.keys((JSON.parse(res.text) as { paths: object }).paths)).not.toContain('/api/dummy/');
  });
});

describe('GET /api/dummy/ when ROUNDHOUSE_DEMO_DATA is on', () => {
  const log = captureLog();
  let api: TestApi;
  let first: DummyBody;

  beforeAll(async () => {
    api = await createTestApi({ demoData: true, logger: createLogger('warn', {}, log.destination) });
  });

  afterAll(async () => {
    await api.close();
  });

  const dummy = () => request(api.app.callback()).get('/api/dummy/');
  const get = (path: string, auth: string) => request(api.app.callback()).get(path).set('Authorization', auth);
  const growthSince = async (before: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(await rowCounts(api.knex)).map(([table, count]) => [table, count - (before[table] ?? 0)]),
    );
  const warnedOf = (res: request.Response) =>
    log.lines().filter((l) => l.requestId === res.headers['x-request-id'] && l.message === 'Dummy User already exists');

  it('when a write fails half way (metrics refused by a constraint), leaves no row behind, not even the user', async () => {
    // Only demo metrics carry an identifier: the constraint blocks them and nothing another test writes.
    await api.knex.raw(`ALTER TABLE metrics ADD CONSTRAINT demo_blocked CHECK (identifier IS NULL) NOT VALID`);
    try {
      expect(await findUserByUsername(api.knex, 'dummy-user')).toBeUndefined();
      const before = await rowCounts(api.knex);
      const res = await dummy();
      expect(res.status).toBe(400);
      expect(await rowCounts(api.knex)).toEqual(before);
      expect(await findUserByUsername(api.knex, 'dummy-user')).toBeUndefined();
    } finally {
      await api.knex.raw('ALTER TABLE metrics DROP CONSTRAINT demo_blocked');
    }
  });

  it('when called the first time, answers 200 with the reference fields and a token that logs dummy-user in', async () => {
    const before = await rowCounts(api.knex);
    const res = await dummy();
    expect(res.status).toBe(200);
    first = dummyBody.parse(res.body);
    expect(first).toMatchObject({
      message: 'Created Dummy Data in Metrics Database!',
      user_credentials: { username: 'dummy-user', password: 'secret' },
    });
    expect(new Set(first.participants).size).toBe(5);
    expect(warnedOf(res)).toEqual([]);
    expect(await growthSince(before)).toEqual(ONE_DEMO);
    const me = await get('/api/users/myself/', `Token ${first.user_credentials.token}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: first.user_uuid, username: 'dummy-user' });
    expect((await get('/api/users/myself/', basic('dummy-user', 'secret'))).status).toBe(200);
  });

  it('when its user reads the training, it is COMPLETED with target 80 and the 5 clients, and no workflow exists', async () => {
    const res = await get(`/api/trainings/${first.training_uuid}/`, `Token ${first.user_credentials.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'C', target_num_updates: 80, actor: first.user_uuid, run: null });
    expect([...(res.body as { participants: string[] }).participants].sort()).toEqual([...first.participants].sort());
    const handle = api.temporal.client.workflow.getHandle(trainingWorkflowId(first.training_uuid));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('when a participant logs in with its name and password secret, it sees the training', async () => {
    const token = `Token ${first.user_credentials.token}`;
    const client = await get(`/api/users/${first.participants[0]}/`, token);
    expect(client.body).toMatchObject({ client: true, actor: false });
    const name = z.object({ username: z.string() }).parse(client.body).username;
    const trainings = await get('/api/users/trainings/', basic(name, 'secret'));
    expect(trainings.status).toBe(200);
    expect(trainings.body).toEqual([expect.objectContaining({ id: first.training_uuid, state: 'C' })]);
  });

  it('when the model is downloaded, onnxruntime runs it and the inference endpoint answers the same logits', async () => {
    const auth = `Token ${first.user_credentials.token}`;
    const training = await get(`/api/trainings/${first.training_uuid}/`, auth);
    const modelId = z.object({ model: z.uuid() }).parse(training.body).model;
    const download = await get(`/api/models/${modelId}/`, auth).buffer(true);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(download.body as Buffer);

    const input = Array.from({ length: 2 * 784 }, (_, i) => ((i * 37) % 255) / 255);
    const session = await ort.InferenceSession.create(bytes);
    const direct = await session.run({ input: new ort.Tensor('float32', Float32Array.from(input), [2, 1, 28, 28]) });
    await session.release();
    const logits = Array.from(direct.logits?.data as Float32Array);
    expect(logits).toHaveLength(20);

    const res = await request(api.app.callback())
      .post('/api/inference/')
      .set('Authorization', auth)
      .send({ model_id: modelId, model_input: input, shape: [2, 1, 28, 28] });
    expect(res.status).toBe(200);
    const outputs = (res.body as { outputs: number[][] }).outputs.flat();
    outputs.forEach((value, i) => expect(value).toBeCloseTo(logits[i] ?? NaN, 5));
    const argmax = [0, 1].map((row) => {
      const slice = logits.slice(row * 10, row * 10 + 10);
      return slice.indexOf(Math.max(...slice));
    });
    expect((res.body as { inference: number[] }).inference).toEqual(argmax);

    // It passes the checks of an upload too: another user can upload the same bytes as a model of their own.
    const other = await buildApiUser(api.knex);
    const upload = await request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', tokenAuth(other))
      .field('name', 'copy')
      .field('description', 'the demo model')
      .attach('model_file', bytes, 'model.onnx');
    expect(upload.status).toBe(201);
  });

  it('when the metrics are read, every participant has NLLoss and Accuracy for steps 0 to 79 in the reference ranges', async () => {
    const training = await get(`/api/trainings/${first.training_uuid}/`, `Token ${first.user_credentials.token}`);
    const modelId = z.object({ model: z.uuid() }).parse(training.body).model;
    const res = await get(`/api/models/${modelId}/metrics/`, `Token ${first.user_credentials.token}`);
    expect(res.status).toBe(200);
    const metrics = metricList.parse(res.body);
    expect(metrics).toHaveLength(2 * 80 * 5);
    const steps = Array.from({ length: 80 }, (_, step) => step);
    for (const reporter of first.participants) {
      for (const key of ['NLLoss', 'Accuracy']) {
        const mine = metrics.filter((m) => m.reporter === reporter && m.key === key);
        expect(mine.map((m) => m.step)).toEqual(steps);
        for (const { step, value_float: value, identifier, model } of mine) {
          const base = key === 'NLLoss' ? 27.354 / (step + 1) : step / 80;
          expect(value).toBeGreaterThanOrEqual(base - 1e-9);
          expect(value).toBeLessThanOrEqual(base + (key === 'NLLoss' ? 1 : 0.1) + 1e-9);
          expect(identifier).toMatch(/^[0-9a-f]{8}$/);
          expect(model).toBe(modelId);
        }
      }
    }
  });

  it('when called again (with credentials, which are ignored), reuses dummy-user with a warning and creates a new training', async () => {
    const before = await rowCounts(api.knex);
    const res = await dummy().set('Authorization', 'Token 0000000000000000000000000000000000000000');
    expect(res.status).toBe(200);
    const second = dummyBody.parse(res.body);
    expect(second.user_uuid).toBe(first.user_uuid);
    expect(second.user_credentials).toEqual(first.user_credentials);
    expect(second.training_uuid).not.toBe(first.training_uuid);
    expect(second.participants.filter((id) => first.participants.includes(id))).toEqual([]);
    expect(warnedOf(res)).toEqual([expect.objectContaining({ level: 'warn' })]);
    expect(await growthSince(before)).toEqual({ ...ONE_DEMO, users: 5 });
    const mine = await get('/api/trainings/', `Token ${first.user_credentials.token}`);
    expect((mine.body as Array<{ id: string }>).map((t) => t.id).sort()).toEqual(
      [first.training_uuid, second.training_uuid].sort(),
    );
  });

  it('when two first calls come at once, both answer 200 with one dummy-user, and one of them warns', async () => {
    await api.knex('users').where({ username: 'dummy-user' }).delete();
    const [a, b] = await Promise.all([dummy(), dummy()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [bodyA, bodyB] = [dummyBody.parse(a.body), dummyBody.parse(b.body)];
    expect(bodyA.user_uuid).toBe(bodyB.user_uuid);
    expect(bodyA.training_uuid).not.toBe(bodyB.training_uuid);
    expect([...warnedOf(a), ...warnedOf(b)]).toHaveLength(1);
  });

  it('when the OpenAPI document is read, it documents /api/dummy/ as open to anyone', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    const doc = JSON.parse(res.text) as { paths: Record<string, { get?: { security?: unknown } }> };
    expect(doc.paths['/api/dummy/']?.get?.security).toEqual([]);
  });
});

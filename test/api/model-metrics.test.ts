import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import request from 'supertest';
import { z } from 'zod';
import { metricResponse } from '../../src/api/routes/models/upload-schemas';
import { Metric } from '../../src/db/models/metric';
import type { User } from '../../src/db/models/user';
import {
  buildApiUser,
  createTestApi,
  errorOf,
  parseBody,
  TEST_LIMITS,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { uploadModel } from '../fixtures/api-models';
import { buildTraining } from '../fixtures/factories';

/** A real PNG of random pixels (which do not compress): about 4 × side² bytes. */
function randomPng(side: number): Buffer {
  const png = new PNG({ width: side, height: side });
  randomBytes(side * side * 4).copy(png.data);
  return PNG.sync.write(png);
}

const metrics = z.array(metricResponse);

describe('/api/models/{id}/metrics/ and /metrics/{metric_id}/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const get = (path: string, user: User) => request(api.app.callback()).get(path).set('Authorization', tokenAuth(user));
  /** Any answer's body as bytes, whatever its type. */
  const download = (path: string, user: User) =>
    get(path, user)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  const post = (modelId: string, user: User, body: object) =>
    request(api.app.callback())
      .post(`/api/models/${modelId}/metrics/`)
      .set('Authorization', tokenAuth(user))
      .send(body);
  const storedMetrics = async (modelId: string) => await Metric.query(api.knex).where({ modelId });

  describe('who sees which metrics', () => {
    /**
     * A model whose owner is not the training's actor but takes part in it, two more participants who each report,
     * and a metric of the server's (no reporter).
     */
    async function reportedModel() {
      const [owner, actor, alice, bob] = [
        await buildApiUser(api.knex),
        await buildApiUser(api.knex),
        await buildApiUser(api.knex, { client: true }),
        await buildApiUser(api.knex, { client: true }),
      ];
      const modelId = await uploadModel(api, owner);
      const training = await buildTraining(api.knex, actor.id, modelId, { state: 'I' });
      await api
        .knex('training_participants')
        .insert([owner, alice, bob].map((user) => ({ training_id: training.id, user_id: user.id })));
      const plot = { base64: randomPng(4).toString('base64') };
      expect(
        (await post(modelId, alice, { metric_names: ['accuracy', 'plot'], metric_values: [0.9, plot] })).status,
      ).toBe(201);
      expect(
        (await post(modelId, bob, { metric_names: ['accuracy', 'plot'], metric_values: [0.8, plot] })).status,
      ).toBe(201);
      await Metric.query(api.knex).insert({
        modelId,
        trainingId: training.id,
        key: 'evaluation',
        valueFloat: 0.7,
        step: 0,
      });
      const all = await storedMetrics(modelId);
      const of = (user: User | null) => all.filter((m) => m.reporterId === (user?.id ?? null)).map((m) => Number(m.id));
      return { modelId, owner, actor, alice, bob, ids: { alice: of(alice), bob: of(bob), server: of(null) } };
    }

    it("when a participant lists them, answers only its own and the server's; the actor and the owner see all", async () => {
      const { modelId, owner, actor, alice, bob, ids } = await reportedModel();
      const listed = async (user: User) =>
        parseBody(metrics, (await get(`/api/models/${modelId}/metrics/`, user)).body).map((m) => [m.id, m.reporter]);
      const own = (user: User, mine: number[]) => [
        ...mine.map((id) => [id, user.id]),
        ...ids.server.map((id) => [id, null]),
      ];
      expect(await listed(alice)).toEqual(own(alice, ids.alice));
      expect(await listed(bob)).toEqual(own(bob, ids.bob));
      const everyone = [
        ...ids.alice.map((id) => [id, alice.id]),
        ...ids.bob.map((id) => [id, bob.id]),
        ...ids.server.map((id) => [id, null]),
      ];
      expect(await listed(actor)).toEqual(everyone);
      // The owner takes part too: the widest of its relations decides.
      expect(await listed(owner)).toEqual(everyone);
    });

    it("when a participant asks for another client's metric by its URL, answers 404 as for none; its own it gets", async () => {
      const { modelId, actor, alice, bob, ids } = await reportedModel();
      const [bobsAccuracy, bobsPlot] = ids.bob;
      for (const id of [bobsAccuracy, bobsPlot]) {
        const refused = await get(`/api/models/${modelId}/metrics/${id}/`, alice);
        expect([refused.status, errorOf(refused.body).detail]).toEqual([404, `Metric ${id} not found.`]);
        expect((await download(`/api/models/${modelId}/metrics/${id}/`, actor)).status).toBe(200);
      }
      const missing = await get(`/api/models/${modelId}/metrics/999999999/`, alice);
      expect([missing.status, errorOf(missing.body).detail]).toEqual([404, 'Metric 999999999 not found.']);
      const [ownAccuracy] = ids.alice;
      const float = await get(`/api/models/${modelId}/metrics/${ownAccuracy}/`, alice);
      expect(float.status).toBe(200);
      expect(parseBody(metricResponse, float.body)).toMatchObject({ key: 'accuracy', value_float: 0.9, url: null });
      const [server] = ids.server;
      expect((await get(`/api/models/${modelId}/metrics/${server}/`, bob)).status).toBe(200);
    });

    it('when the metric belongs to another model, a stranger asks, or the id is malformed, answers 404 or 400', async () => {
      const { modelId, owner, ids } = await reportedModel();
      const otherModel = await uploadModel(api, owner);
      const [alicesAccuracy] = ids.alice;
      expect((await get(`/api/models/${otherModel}/metrics/${alicesAccuracy}/`, owner)).status).toBe(404);
      const stranger = await buildApiUser(api.knex);
      const hidden = await get(`/api/models/${modelId}/metrics/${alicesAccuracy}/`, stranger);
      expect([hidden.status, errorOf(hidden.body).detail]).toEqual([404, `Model ${modelId} not found.`]);
      const malformed = await get(`/api/models/${modelId}/metrics/one/`, owner);
      expect([malformed.status, errorOf(malformed.body).detail]).toEqual([400, 'Metric one not found.']);
    });
  });

  describe('binary values', () => {
    it('when a PNG larger than the body limit comes as another type, serves it back byte for byte as image/png', async () => {
      const owner = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, owner);
      const picture = randomPng(140);
      expect(picture.length).toBeGreaterThan(TEST_LIMITS.bodyBytes);
      expect(picture.length).toBeLessThan(TEST_LIMITS.metricBytes);
      const claimed = { base64: picture.toString('base64'), content_type: 'application/json' };
      const sent = await post(modelId, owner, { metric_names: ['roc curve'], metric_values: [claimed] });
      expect(sent.status).toBe(201);
      const [listed] = parseBody(metrics, (await get(`/api/models/${modelId}/metrics/`, owner)).body);
      expect(listed).toMatchObject({
        key: 'roc curve',
        value_binary: picture.toString('base64'),
        content_type: 'image/png',
        url: `/api/models/${modelId}/metrics/${listed!.id}/`,
      });
      const res = await download(listed!.url!, owner);
      expect(res.status).toBe(200);
      expect(Buffer.compare(res.body as Buffer, picture)).toBe(0);
      expect(res.headers).toMatchObject({
        'content-type': 'image/png',
        'x-content-type-options': 'nosniff',
        'content-disposition': `attachment; filename="roc_curve-${listed!.id}.png"; filename*=UTF-8''roc%20curve-${listed!.id}.png`,
      });
    });

    it('when a value is text, serves it as the text the server stored, as a .txt attachment', async () => {
      const owner = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, owner);
      const note = '<svg onload="alert(1)"> is just a note here';
      expect((await post(modelId, owner, { metric_names: ['note'], metric_values: [note] })).status).toBe(201);
      const [listed] = parseBody(metrics, (await get(`/api/models/${modelId}/metrics/`, owner)).body);
      const res = await download(listed!.url!, owner);
      expect([res.status, (res.body as Buffer).toString('utf8')]).toEqual([200, note]);
      expect(res.headers).toMatchObject({
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'content-disposition': expect.stringMatching(/^attachment; filename="note-\d+\.txt"/) as string,
      });
    });

    it.each([
      [
        'an SVG image',
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        'image/png',
        'is an SVG image',
      ],
      [
        'an SVG behind an XML prolog',
        '\ufeff<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        undefined,
        'is an SVG image',
      ],
      ['an HTML page', '  <!DOCTYPE html><html><script>alert(1)</script></html>', 'image/gif', 'is an HTML page'],
      ['bytes declared as HTML', 'hello', 'text/html; charset=utf-8', 'is declared as text/html'],
    ])('when a value is %s, answers 400 saying why and stores none of the metrics', async (_what, text, type, why) => {
      const owner = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, owner);
      const value = { base64: Buffer.from(text, 'utf8').toString('base64'), ...(type ? { content_type: type } : {}) };
      const res = await post(modelId, owner, { metric_names: ['loss', 'plot'], metric_values: [0.5, value] });
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toMatch(
        new RegExp(`^Metric value 'plot' ${why}, which is refused: SVG and HTML can run scripts`),
      );
      expect(await storedMetrics(modelId)).toEqual([]);
    });

    it('when a picture is beyond the metric limit (though within the body limit), answers 413 and stores nothing', async () => {
      const owner = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, owner);
      const picture = randomPng(260);
      expect(picture.length).toBeGreaterThan(TEST_LIMITS.metricBytes);
      const res = await post(modelId, owner, {
        metric_names: ['loss', 'plot'],
        metric_values: [0.5, { base64: picture.toString('base64'), content_type: 'image/png' }],
      });
      expect(res.status).toBe(413);
      expect(errorOf(res.body)).toEqual({
        code: 'payload_too_large',
        detail: `Metric value 'plot' too large: the limit is ${TEST_LIMITS.metricBytes} bytes.`,
      });
      expect(await storedMetrics(modelId)).toEqual([]);
    });

    it('when a value comes as a multipart file part, answers 400 saying how to send it, rather than dropping it', async () => {
      const owner = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, owner);
      const res = await request(api.app.callback())
        .post(`/api/models/${modelId}/metrics/`)
        .set('Authorization', tokenAuth(owner))
        .field('metric_names', 'plot')
        .attach('metric_values', randomPng(4), 'plot.png');
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toContain('metric_values cannot be a file part');
      expect(await storedMetrics(modelId)).toEqual([]);
    });
  });
});

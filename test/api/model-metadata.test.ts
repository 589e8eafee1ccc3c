import request from 'supertest';
import { z } from 'zod';
import { modelRoundsResponse, modelStats } from '../../src/api/routes/models/schemas';
import { FlModel } from '../../src/db/models/model';
import { metricResponse } from '../../src/api/routes/models/upload-schemas';
import { buildApiUser, errorOf, parseBody, createTestApi, tokenAuth, type TestApi } from '../fixtures/api-app';
import { setupTraining, trainingInTestRound, uploadModel } from '../fixtures/api-models';
import { fixture } from '../fixtures/onnx-edge-cases';
import { waitForTraining } from '../support/training-scenario';
import type { User } from '../../src/db/models/user';

describe('model metadata, rounds, preprocessing and metrics', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const get = (path: string, auth: string) => request(api.app.callback()).get(path).set('Authorization', auth);

  describe('GET /api/models/{id}/metadata/', () => {
    it('when the owner asks (ONNX equivalent of the torchinfo test), answers the model with inputs, outputs and parameters', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await get(`/api/models/${id}/metadata/`, tokenAuth(owner));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id,
        name: 'mlp',
        description: 'an MNIST MLP',
        input_shape: [null, 1, 28, 28],
        has_preprocessing: false,
        preprocessing: null,
        owner: owner.id,
      });
      const { stats } = parseBody(z.object({ stats: modelStats }), res.body);
      expect(stats).toMatchObject({
        inputs: [{ name: 'input', dtype: 'float32', shape: ['batch', 1, 28, 28] }],
        outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 10] }],
        input_size: [[1, 1, 28, 28]],
        total_params: 101770,
        trainable_params: 101770,
        total_param_bytes: 101770 * 4,
      });
      expect(stats.summary_list[0]).toEqual({
        name: '1.weight',
        dtype: 'float32',
        shape: [128, 784],
        num_params: 100352,
        param_bytes: 401408,
        trainable: true,
      });
    });

    it('when the model is the CNN (ONNX equivalent of the TorchScript test), lists its 8 initializers', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner, { file: fixture('cnn-global-r0.onnx') });
      const res = await get(`/api/models/${id}/metadata/`, tokenAuth(owner));
      const { stats } = parseBody(z.object({ stats: modelStats }), res.body);
      expect(stats.summary_list).toHaveLength(8);
      expect(stats.total_params).toBe(1199882);
    });

    it('when the model has preprocessing, has_preprocessing is true', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner, { preprocessing: fixture('preprocess-rgb-to-mnist.onnx') });
      const res = await get(`/api/models/${id}/metadata/`, tokenAuth(owner));
      expect(res.body).toMatchObject({ has_preprocessing: true, preprocessing: `/api/models/${id}/preprocessing/` });
    });

    it('when a stranger asks (security 12.1.3), answers 404', async () => {
      const id = await uploadModel(api, await buildApiUser(api.knex));
      const res = await get(`/api/models/${id}/metadata/`, tokenAuth(await buildApiUser(api.knex)));
      expect(res.status).toBe(404);
    });
  });

  describe('GET /api/models/{id}/rounds/', () => {
    it('lists round 0 with its digest and size', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await get(`/api/models/${id}/rounds`, tokenAuth(owner));
      expect(res.status).toBe(200);
      const [round] = parseBody(modelRoundsResponse, res.body);
      expect(round).toMatchObject({ round: 0, size: 407620 });
      expect(round?.digest).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('/api/models/{id}/preprocessing/', () => {
    it('when the owner posts an ONNX preprocessing graph, answers 202 and serves it with the reference headers', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const post = await request(api.app.callback())
        .post(`/api/models/${id}/preprocessing/`)
        .set('Authorization', tokenAuth(owner))
        .attach('model_preprocessing_file', fixture('preprocess-rgb-to-mnist.onnx'), 'pre.onnx');
      expect(post.status).toBe(202);
      expect(post.body).toEqual({ detail: 'Proprocessing Model Upload Accepted' });
      const res = await get(`/api/models/${id}/preprocessing/`, tokenAuth(owner)).buffer(true);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toBe(`filename="model-${id}-proprecessing.pt"`);
    });

    it('when the preprocessing file is not ONNX (ONNX equivalent of the v1 Compose test), answers 400', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await request(api.app.callback())
        .post(`/api/models/${id}/preprocessing/`)
        .set('Authorization', tokenAuth(owner))
        .attach('model_preprocessing_file', fixture('mlp-client-a.pt'), 'pre.pt');
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toMatch(/^A preprocessing file needs an ONNX model; .*torch\.onnx\.export/);
      expect(res.body).toMatchObject({ details: { reason: 'onnx_required' } });
    });

    it('when a participant posts preprocessing, answers 403 with the reference text', async () => {
      const { participants, modelId } = await setupTraining(api);
      const res = await request(api.app.callback())
        .post(`/api/models/${modelId}/preprocessing/`)
        .set('Authorization', tokenAuth(participants[0]!))
        .attach('model_preprocessing_file', fixture('preprocess-rgb-to-mnist.onnx'), 'pre.onnx');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ detail: `You are not the owner of model ${modelId}!` });
    });

    it('when none is defined, answers 404 with the reference text; a stranger (security 12.1.3) gets 404 too', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const none = await get(`/api/models/${id}/preprocessing/`, tokenAuth(owner));
      expect(none.status).toBe(404);
      expect(none.body).toMatchObject({ detail: `Model '${id}' has no preprocessing model defined.` });
      const withPre = await uploadModel(api, owner, { preprocessing: fixture('preprocess-rgb-to-mnist.onnx') });
      const stranger = await get(`/api/models/${withPre}/preprocessing/`, tokenAuth(await buildApiUser(api.knex)));
      expect(stranger.status).toBe(404);
      expect(stranger.body).toMatchObject({ detail: `Model ${withPre} not found.` });
    });
  });

  describe('/api/models/{id}/metrics/', () => {
    it('when a participant posts form metrics on the global model in its test round, answers 201 and lists them with step = round', async () => {
      const { participants, modelId, actor, stop } = await trainingInTestRound(api);
      try {
        const post = await request(api.app.callback())
          .post(`/api/models/${modelId}/metrics/`)
          .set('Authorization', tokenAuth(participants[0]!))
          .type('form')
          .send('metric_names=accuracy&metric_values=0.75');
        expect(post.status).toBe(201);
        expect(post.body).toEqual({ detail: 'Model Metrics Upload Accepted', model_id: modelId });
        const res = await get(`/api/models/${modelId}/metrics`, tokenAuth(actor));
        expect(parseBody(z.array(metricResponse), res.body)).toMatchObject([
          {
            key: 'accuracy',
            value_float: 0.75,
            value_binary: null,
            step: 1,
            model: modelId,
            reporter: participants[0]!.id,
          },
        ]);
      } finally {
        await stop();
      }
    });

    it('when a participant retries its test metrics after the training finished meanwhile, answers 201 and stores them once', async () => {
      const { actor, participants, modelId, training, stop } = await trainingInTestRound(api);
      try {
        const send = (participant: User) =>
          request(api.app.callback())
            .post(`/api/models/${modelId}/metrics/`)
            .set('Authorization', tokenAuth(participant))
            .send({ metric_names: ['accuracy'], metric_values: [0.75] });
        expect((await send(participants[0]!)).status).toBe(201);
        // The other participant's metrics end the test round and with it the (one-round) training.
        expect((await send(participants[1]!)).status).toBe(201);
        await waitForTraining(api.app.callback(), tokenAuth(actor), training.id, (t) => t.state === 'C');
        const retry = await send(participants[0]!);
        expect(retry.status).toBe(201);
        expect(retry.body).toEqual({ detail: 'Model Metrics Upload Accepted', model_id: modelId });
        expect(await api.knex('metrics').where({ model_id: modelId, reporter_id: participants[0]!.id })).toHaveLength(
          1,
        );
      } finally {
        await stop();
      }
    });

    it('when the owner posts JSON metrics with a binary value on a model without training, answers 201 and sniffs its type', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const post = await request(api.app.callback())
        .post(`/api/models/${id}/metrics/`)
        .set('Authorization', tokenAuth(owner))
        .send({
          metric_names: ['loss', 'confusion'],
          metric_values: [0.5, { base64: 'AAEC', content_type: 'application/x-npy' }],
        });
      expect(post.status).toBe(201);
      const res = await get(`/api/models/${id}/metrics/`, tokenAuth(owner));
      const metrics = parseBody(z.array(metricResponse), res.body);
      expect(metrics.map((m) => [m.key, m.value_float, m.value_binary, m.content_type])).toEqual([
        ['loss', 0.5, null, null],
        // The client's content type is not taken: three bytes that are no known image are application/octet-stream.
        ['confusion', null, 'AAEC', 'application/octet-stream'],
      ]);
    });

    it("when an update's owner posts metrics on it, answers 201 and the actor reads them", async () => {
      const { actor, participants, modelId } = await setupTraining(api, { state: 'O' });
      const update = await FlModel.query(api.knex).insert({
        type: 'LOCAL',
        ownerId: participants[0]!.id,
        baseModelId: modelId,
        round: 0,
        sampleSize: 10,
      });
      const post = await request(api.app.callback())
        .post(`/api/models/${update.id}/metrics/`)
        .set('Authorization', tokenAuth(participants[0]!))
        .field('metric_names', 'loss')
        .field('metric_values', '0.125');
      expect(post.status).toBe(201);
      const res = await get(`/api/models/${update.id}/metrics/`, tokenAuth(actor));
      expect(parseBody(z.array(metricResponse), res.body)).toMatchObject([{ key: 'loss', value_float: 0.125 }]);
    });

    it('when names and values differ in length, answers 400 with the reference text and stores nothing', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await request(api.app.callback())
        .post(`/api/models/${id}/metrics/`)
        .set('Authorization', tokenAuth(owner))
        .send({ metric_names: ['a', 'b', 'c'], metric_values: [1, 2] });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'Metric names and values must have the same length' });
      expect((await get(`/api/models/${id}/metrics/`, tokenAuth(owner))).body).toEqual([]);
    });

    it("when a stranger reads or writes a model's metrics (security 12.1.3), answers 404", async () => {
      const id = await uploadModel(api, await buildApiUser(api.knex));
      const stranger = tokenAuth(await buildApiUser(api.knex));
      expect((await get(`/api/models/${id}/metrics/`, stranger)).status).toBe(404);
      const post = await request(api.app.callback())
        .post(`/api/models/${id}/metrics/`)
        .set('Authorization', stranger)
        .send({ metric_names: ['a'], metric_values: [1] });
      expect(post.status).toBe(404);
    });
  });
});

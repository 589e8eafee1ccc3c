import { InferenceSession } from 'onnxruntime-node';
import request from 'supertest';
import { INPUT_SHAPE_FORM, modelCreatedResponse } from '../../src/api/routes/models/schemas';
import { FlModel } from '../../src/db/models/model';
import { listVersions } from '../../src/db/queries/models';
import { Training } from '../../src/db/models/training';
import {
  blobDigests,
  errorOf,
  buildApiUser,
  createTestApi,
  idsOf,
  parseBody,
  rowCounts,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { setupTraining, uploadModel } from '../fixtures/api-models';
import { fixture, picklePayload, tinyModel } from '../fixtures/onnx-edge-cases';

describe('/api/models/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  describe('POST /api/models/', () => {
    it('when unauthenticated, answers 401', async () => {
      const res = await request(api.app.callback()).post('/api/models/');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ detail: 'Authentication credentials were not provided.' });
    });

    it('when an ONNX model with input_shape [None, 1, 28, 28] is uploaded, stores it with its manifest and round 0', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const model = await FlModel.query(api.knex).findById(id);
      expect(model).toMatchObject({ type: 'GLOBAL', ownerId: owner.id, round: 0, inputShape: [null, 1, 28, 28] });
      expect(model?.graphDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(model?.manifest?.map((e) => e.name)).toEqual(['1.weight', '1.bias', '4.weight', '4.bias']);
      expect((await listVersions(api.knex, id)).map((v) => v.round)).toEqual([0]);
    });

    it('when type=SWAG, stores a SWAG model', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner, { type: 'swag' });
      expect((await FlModel.query(api.knex).findById(id))?.type).toBe('SWAG');
    });

    it('when a MEAN model of owned models is posted as JSON, links them in order', async () => {
      const owner = await buildApiUser(api.knex);
      const members = [await uploadModel(api, owner), await uploadModel(api, owner)];
      const res = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .send({ type: 'MEAN', name: 'ensemble', description: 'two', models: members });
      expect(res.status).toBe(201);
      const meta = await request(api.app.callback())
        .get(`/api/models/${parseBody(modelCreatedResponse, res.body).model_id}/metadata/`)
        .set('Authorization', tokenAuth(owner));
      expect(meta.body).toMatchObject({ type: 'MEAN', models: members });
    });

    it('when a MEAN model names a model of someone else, answers 400 with the reference text', async () => {
      const owner = await buildApiUser(api.knex);
      const other = await buildApiUser(api.knex);
      const foreign = await uploadModel(api, other);
      const res = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .send({ type: 'MEAN', name: 'm', description: 'd', models: [foreign] });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'Invalid model selection. Insufficient model permissions.' });
    });

    it('when a model with an ONNX preprocessing graph is uploaded, both download again', async () => {
      const owner = await buildApiUser(api.knex);
      const pre = fixture('preprocess-rgb-to-mnist.onnx');
      const id = await uploadModel(api, owner, { preprocessing: pre });
      const res = await request(api.app.callback())
        .get(`/api/models/${id}/preprocessing/`)
        .set('Authorization', tokenAuth(owner))
        .buffer(true);
      expect(res.status).toBe(200);
      expect(Buffer.compare(Buffer.from(res.body as Buffer), pre)).toBe(0);
    });

    it('when name is missing, answers 400 "Missing required field: name" and stores nothing', async () => {
      const owner = await buildApiUser(api.knex);
      const [rows, blobs] = [await rowCounts(api.knex), await blobDigests(api.blobs)];
      const res = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .field('description', 'd')
        .attach('model_file', fixture('mlp-global-r0.onnx'), 'm.onnx');
      expect(res.body).toMatchObject({ detail: 'Missing required field: name', code: 'invalid_input' });
      expect(res.status).toBe(400);
      expect([await rowCounts(api.knex), await blobDigests(api.blobs)]).toEqual([rows, blobs]);
    });

    it('when input_shape is not a list of whole numbers and None, answers 400 saying the form and stores nothing', async () => {
      const owner = await buildApiUser(api.knex);
      const [rows, blobs] = [await rowCounts(api.knex), await blobDigests(api.blobs)];
      for (const dims of [['abc'], ['None', '1', '28.5', '28'], ['-1']]) {
        let req = request(api.app.callback())
          .post('/api/models/')
          .set('Authorization', tokenAuth(owner))
          .field('name', 'n')
          .field('description', 'd');
        for (const dim of dims) {
          req = req.field('input_shape', dim);
        }
        const res = await req.attach('model_file', fixture('mlp-global-r0.onnx'), 'm.onnx');
        expect(res.status).toBe(400);
        expect(errorOf(res.body)).toMatchObject({
          code: 'invalid_input',
          detail: `input_shape: ${INPUT_SHAPE_FORM}`,
        });
      }
      expect([await rowCounts(api.knex), await blobDigests(api.blobs)]).toEqual([rows, blobs]);
    });

    it('when the file is missing, answers 400 with the reference text', async () => {
      const owner = await buildApiUser(api.knex);
      const res = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .field('name', 'n')
        .field('description', 'd');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: "No uploaded file 'model_file' found." });
    });

    it('when the model is a pickle or keeps external data (security 12.1.1), answers 400 and stores nothing', async () => {
      const owner = await buildApiUser(api.knex);
      const [rows, blobs] = [await rowCounts(api.knex), await blobDigests(api.blobs)];
      const cases: Array<[Buffer, string]> = [
        [fixture('torch/refused-code-on-load.pt'), 'torch_pickle_global'],
        [fixture('torch/refused-whole-module.pt'), 'torch_whole_module'],
        [picklePayload(), 'torch_not_zip'],
        [tinyModel({ kind: 'external', location: '../../etc/passwd' }), 'model_external_data'],
      ];
      for (const [file, reason] of cases) {
        const res = await request(api.app.callback())
          .post('/api/models/')
          .set('Authorization', tokenAuth(owner))
          .field('name', 'n')
          .field('description', 'd')
          .attach('model_file', file, 'model.pt');
        expect(res.status).toBe(400);
        expect(errorOf(res.body).detail).toMatch(/^Invalid model file: /);
        expect(res.body).toMatchObject({ details: { reason } });
      }
      expect([await rowCounts(api.knex), await blobDigests(api.blobs)]).toEqual([rows, blobs]);
    });

    it('when a weight is NaN, answers 400 naming the tensor', async () => {
      const owner = await buildApiUser(api.knex);
      const res = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .field('name', 'n')
        .field('description', 'd')
        .attach('model_file', tinyModel({ kind: 'values', values: [1, Number.NaN, 3, 4] }), 'm.onnx');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ details: { reason: 'model_non_finite', tensor: 'w' } });
    });
  });

  describe('GET /api/models/', () => {
    it('lists own models and the models of trainings the caller acts in or takes part in, nothing else', async () => {
      const { actor, participants, modelId } = await setupTraining(api);
      const own = await uploadModel(api, participants[0]!);
      await uploadModel(api, actor);
      await uploadModel(api, await buildApiUser(api.knex));
      const res = await request(api.app.callback())
        .get('/api/models/')
        .set('Authorization', tokenAuth(participants[0]!));
      expect(res.status).toBe(200);
      expect(idsOf(res.body).sort()).toEqual([modelId, own].sort());
    });
  });

  describe('GET /api/models/{id}/', () => {
    it('when the caller owns the model, answers its bytes with the reference headers (ONNX equivalent of test_get_model_and_unpickle: onnxruntime loads them)', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await request(api.app.callback())
        .get(`/api/models/${id}`)
        .set('Authorization', tokenAuth(owner))
        .buffer(true);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toBe(`filename="model-${id}.pt"`);
      const bytes = Buffer.from(res.body as Buffer);
      expect(Buffer.compare(bytes, fixture('mlp-global-r0.onnx'))).toBe(0);
      const session = await InferenceSession.create(bytes);
      expect(session.inputNames).toEqual(['input']);
      await session.release();
    });

    it('when the caller has no relation to the model (security 12.1.3), answers 404', async () => {
      const owner = await buildApiUser(api.knex);
      const stranger = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await request(api.app.callback()).get(`/api/models/${id}/`).set('Authorization', tokenAuth(stranger));
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: `Model ${id} not found.`, code: 'not_found' });
    });

    it('when ?round=N names a round that does not exist, answers 404; round 0 answers 200', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const auth = tokenAuth(owner);
      expect(
        (await request(api.app.callback()).get(`/api/models/${id}/?round=0`).set('Authorization', auth)).status,
      ).toBe(200);
      const missing = await request(api.app.callback()).get(`/api/models/${id}/?round=3`).set('Authorization', auth);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ detail: `Model ${id} has no round 3.` });
    });
  });

  describe('DELETE /api/models/{id}/', () => {
    it('when the owner deletes a model without training, answers 200 "Model removed!" and it is gone', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const res = await request(api.app.callback()).delete(`/api/models/${id}/`).set('Authorization', tokenAuth(owner));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ detail: 'Model removed!' });
      expect(await FlModel.query(api.knex).findById(id)).toBeUndefined();
    });

    it('when the owner deletes the global model of a training, the training goes too', async () => {
      const { actor, modelId, training } = await setupTraining(api);
      const res = await request(api.app.callback())
        .delete(`/api/models/${modelId}/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(200);
      expect(await Training.query(api.knex).findById(training.id)).toBeUndefined();
    });

    it('when the owner of an update deletes it, the global model and the training remain', async () => {
      const { participants, modelId, training } = await setupTraining(api);
      const update = await FlModel.query(api.knex).insert({
        type: 'LOCAL',
        ownerId: participants[0]!.id,
        baseModelId: modelId,
        round: 0,
        sampleSize: 10,
      });
      const res = await request(api.app.callback())
        .delete(`/api/models/${update.id}/`)
        .set('Authorization', tokenAuth(participants[0]!));
      expect(res.status).toBe(200);
      expect(await FlModel.query(api.knex).findById(update.id)).toBeUndefined();
      expect(await FlModel.query(api.knex).findById(modelId)).toBeDefined();
      expect(await Training.query(api.knex).findById(training.id)).toBeDefined();
    });

    it("when the training's actor (not the owner) deletes its global model, the training goes too", async () => {
      const { actor, modelId, training } = await setupTraining(api);
      await FlModel.query(api.knex)
        .patch({ ownerId: (await buildApiUser(api.knex)).id })
        .where('id', modelId);
      const res = await request(api.app.callback())
        .delete(`/api/models/${modelId}/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(200);
      expect(await Training.query(api.knex).findById(training.id)).toBeUndefined();
    });

    it('when a participant or a stranger deletes, answers 403 with the reference text and the model remains', async () => {
      const { participants, modelId } = await setupTraining(api);
      for (const user of [participants[0]!, await buildApiUser(api.knex)]) {
        const res = await request(api.app.callback())
          .delete(`/api/models/${modelId}/`)
          .set('Authorization', tokenAuth(user));
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({
          detail: 'You are neither the owner of the model nor the actor of the corresponding training.',
        });
      }
      expect(await FlModel.query(api.knex).findById(modelId)).toBeDefined();
    });

    it('when a stranger deletes a model without training, answers 403 and it remains', async () => {
      const id = await uploadModel(api, await buildApiUser(api.knex));
      const res = await request(api.app.callback())
        .delete(`/api/models/${id}/`)
        .set('Authorization', tokenAuth(await buildApiUser(api.knex)));
      expect(res.status).toBe(403);
      expect(await FlModel.query(api.knex).findById(id)).toBeDefined();
    });

    it('when the model has metrics of its own (no training), answers 200 and the metrics go with it', async () => {
      const owner = await buildApiUser(api.knex);
      const id = await uploadModel(api, owner);
      const metrics = await request(api.app.callback())
        .post(`/api/models/${id}/metrics/`)
        .set('Authorization', tokenAuth(owner))
        .send({ metric_names: ['accuracy'], metric_values: [0.5] });
      expect(metrics.status).toBe(201);
      const res = await request(api.app.callback()).delete(`/api/models/${id}/`).set('Authorization', tokenAuth(owner));
      expect(res.body).toEqual({ detail: 'Model removed!' });
      expect(await FlModel.query(api.knex).findById(id)).toBeUndefined();
      expect(await api.knex('metrics').where({ model_id: id })).toEqual([]);
    });

    it('when the model is a member of a MEAN model, answers 409 naming it and both remain', async () => {
      const owner = await buildApiUser(api.knex);
      const member = await uploadModel(api, owner);
      const mean = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', tokenAuth(owner))
        .send({ type: 'MEAN', name: 'ensemble', description: 'one', models: [member] });
      const meanId = parseBody(modelCreatedResponse, mean.body).model_id;
      const res = await request(api.app.callback())
        .delete(`/api/models/${member}/`)
        .set('Authorization', tokenAuth(owner));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        code: 'conflict',
        detail: `Model ${member} is a member of MEAN model ${meanId}; delete that first.`,
      });
      expect(await FlModel.query(api.knex).findById(member)).toBeDefined();
      const first = await request(api.app.callback())
        .delete(`/api/models/${meanId}/`)
        .set('Authorization', tokenAuth(owner));
      expect(first.status).toBe(200);
      const then = await request(api.app.callback())
        .delete(`/api/models/${member}/`)
        .set('Authorization', tokenAuth(owner));
      expect(then.status).toBe(200);
    });

    it('when the model does not exist, answers 404 with the reference text', async () => {
      const owner = await buildApiUser(api.knex);
      const id = '2a7c2b6e-3f7e-4a57-9d8e-0f8f5b0f6c11';
      const res = await request(api.app.callback()).delete(`/api/models/${id}/`).set('Authorization', tokenAuth(owner));
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ detail: `Model ${id} not found.` });
    });
  });
});

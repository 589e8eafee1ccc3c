import request from 'supertest';
import { Metric } from '../../src/db/models/metric';
import { FlModel } from '../../src/db/models/model';
import { Upload } from '../../src/db/models/upload';
import {
  blobDigests,
  buildApiUser,
  errorOf,
  createTestApi,
  idsOf,
  rowCounts,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { mlpMoments, setupTraining } from '../fixtures/api-models';
import { fixture } from '../fixtures/onnx-edge-cases';

describe('POST /api/models/{id}/ and /swag/', () => {
  let api: TestApi;
  const submitted: Upload[] = [];

  beforeAll(async () => {
    api = await createTestApi({
      orchestrator: () => ({
        start: () => Promise.resolve(),
        submitUpload: (_training, upload) => {
          submitted.push(upload);
          return Promise.resolve();
        },
        decline: () => Promise.resolve(),
        addClients: () => Promise.resolve(),
        removeClients: () => Promise.resolve(),
        status: () => Promise.resolve(null),
        cancel: () => Promise.resolve(),
      }),
    });
  });

  afterAll(async () => {
    await api.close();
  });

  const postUpdate = (modelId: string, auth: string, file = fixture('mlp-client-a.onnx'), round = '0') =>
    request(api.app.callback())
      .post(`/api/models/${modelId}/`)
      .set('Authorization', auth)
      .field('round', round)
      .field('sample_size', '3000')
      .field('owner', 'ignored')
      .attach('model_file', file, 'update.onnx');

  describe('POST /api/models/{id}/ (local update)', () => {
    it('when a participant uploads round 0 of an ONGOING training, answers 201, fills its slot and hands it to the orchestrator once', async () => {
      const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
      const res = await postUpdate(modelId, tokenAuth(participants[0]!));
      expect(res.body).toEqual({ detail: 'Model Update Accepted' });
      expect(res.status).toBe(201);
      const slot = await Upload.query(api.knex).findOne({ trainingId: training.id });
      expect(slot).toMatchObject({ round: 0, clientId: participants[0]!.id, phase: 'update', sampleSize: 3000 });
      expect(submitted.filter((u) => u.id === slot?.id)).toHaveLength(1);
      const status = await request(api.app.callback())
        .get(`/api/trainings/${training.id}/`)
        .set('Authorization', tokenAuth(participants[0]!));
      expect(status.body).toMatchObject({ local_models_arrived: 1, local_models_expected: 2 });
    });

    it('when the same upload is retried, answers 201 again without a second row; different bytes answer 409', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      const auth = tokenAuth(participants[0]!);
      expect((await postUpdate(modelId, auth)).status).toBe(201);
      const before = await rowCounts(api.knex);
      const retry = await postUpdate(modelId, auth);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual({ detail: 'Model Update Accepted' });
      const other = await postUpdate(modelId, auth, fixture('mlp-client-b.onnx'));
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ code: 'conflict' });
      expect(await rowCounts(api.knex)).toEqual(before);
    });

    it('when the same upload arrives twice at once, both answer 201 and the slot holds one update', async () => {
      const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
      const auth = tokenAuth(participants[0]!);
      const [first, second] = await Promise.all([postUpdate(modelId, auth), postUpdate(modelId, auth)]);
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(await Upload.query(api.knex).where({ trainingId: training.id }).resultSize()).toBe(1);
      expect(await FlModel.query(api.knex).where({ baseModelId: modelId }).resultSize()).toBe(1);
    });

    it('when metrics come with the update (one of them text), stores them with step = round', async () => {
      const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
      const res = await postUpdate(modelId, tokenAuth(participants[0]!))
        .field('metric_names', 'loss')
        .field('metric_names', 'accuracy')
        .field('metric_names', 'note')
        .field('metric_values', '0.25')
        .field('metric_values', '0.9')
        .field('metric_values', 'converging');
      expect(res.status).toBe(201);
      const rows = await Metric.query(api.knex).where({ trainingId: training.id }).orderBy('id');
      expect(rows.map((r) => [r.key, r.valueFloat, r.step])).toEqual([
        ['loss', 0.25, 0],
        ['accuracy', 0.9, 0],
        ['note', null, 0],
      ]);
    });

    it('when metric_names come without metric_values, answers 400 and stores no update', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      const before = await rowCounts(api.knex);
      const res = await postUpdate(modelId, tokenAuth(participants[0]!)).field('metric_names', 'loss');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'Metric names or values are missing' });
      expect(await rowCounts(api.knex)).toEqual(before);
    });

    it('when the file field has another name, answers 400 "No uploaded file \'model_file\' found."', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      const res = await request(api.app.callback())
        .post(`/api/models/${modelId}/`)
        .set('Authorization', tokenAuth(participants[0]!))
        .field('round', '0')
        .field('sample_size', '10')
        .attach('xx_model_file', fixture('mlp-client-a.onnx'), 'u.onnx');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: "No uploaded file 'model_file' found." });
    });

    it('when the model has no training, answers 404 with the reference text', async () => {
      const user = await buildApiUser(api.knex);
      const { modelId } = await setupTraining(api, { state: 'O' });
      await api.knex('trainings').where({ model_id: modelId }).delete();
      const res = await postUpdate(modelId, tokenAuth(user));
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ detail: `Model with ID ${modelId} does not have a training process running` });
    });

    it('when the caller is not a participant, answers 403 with the reference text', async () => {
      const { actor, modelId, training } = await setupTraining(api, { state: 'O' });
      const res = await postUpdate(modelId, tokenAuth(actor));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ detail: `You are not a participant of training ${training.id}!` });
    });

    it('when the training is not ONGOING or the round is not current, answers 400 with the reference texts', async () => {
      const initial = await setupTraining(api);
      const wrongState = await postUpdate(initial.modelId, tokenAuth(initial.participants[0]!));
      expect(wrongState.body).toMatchObject({ detail: `Training with ID ${initial.training.id} is in state I` });
      const ongoing = await setupTraining(api, { state: 'O' });
      const wrongRound = await postUpdate(ongoing.modelId, tokenAuth(ongoing.participants[0]!), undefined, '1');
      expect(wrongRound.status).toBe(400);
      expect(wrongRound.body).toMatchObject({
        detail: `Training with ID ${ongoing.training.id} is not currently in round 0`,
      });
    });

    it('when the update has another graph (the CNN for the MLP), answers 400 naming the difference and stores nothing', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      const [rows, blobs] = [await rowCounts(api.knex), await blobDigests(api.blobs)];
      const res = await postUpdate(modelId, tokenAuth(participants[0]!), fixture('cnn-client-a.onnx'));
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toMatch(/^Invalid model file: /);
      expect(['model_graph_mismatch', 'model_manifest_mismatch']).toContain(errorOf(res.body).details?.reason);
      expect([await rowCounts(api.knex), await blobDigests(api.blobs)]).toEqual([rows, blobs]);
    });

    it('when sample_size is 0, answers 400', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      const res = await request(api.app.callback())
        .post(`/api/models/${modelId}/`)
        .set('Authorization', tokenAuth(participants[0]!))
        .field('round', '0')
        .field('sample_size', '0')
        .attach('model_file', fixture('mlp-client-a.onnx'), 'u.onnx');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'sample_size must be a positive integer.' });
    });

    it('when sample_size is not a whole number, answers 400 saying so', async () => {
      const { participants, modelId } = await setupTraining(api, { state: 'O' });
      for (const value of ['ten', '2.5']) {
        const res = await request(api.app.callback())
          .post(`/api/models/${modelId}/`)
          .set('Authorization', tokenAuth(participants[0]!))
          .field('round', '0')
          .field('sample_size', value)
          .attach('model_file', fixture('mlp-client-a.onnx'), 'u.onnx');
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ detail: 'sample_size: Must be a whole number.' });
      }
    });
  });

  describe('POST /api/models/{id}/metrics/ (model-test results)', () => {
    it('when a participant reports on the global model of an ONGOING training, fills the test slot once; other metrics 409', async () => {
      const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
      const post = (accuracy: number) =>
        request(api.app.callback())
          .post(`/api/models/${modelId}/metrics/`)
          .set('Authorization', tokenAuth(participants[0]!))
          .send({ metric_names: ['accuracy'], metric_values: [accuracy] });
      expect((await post(0.5)).status).toBe(201);
      const retry = await post(0.5);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual({ detail: 'Model Metrics Upload Accepted', model_id: modelId });
      expect((await post(0.6)).status).toBe(409);
      const slot = await Upload.query(api.knex).findOne({ trainingId: training.id, phase: 'test' });
      expect(slot).toMatchObject({ round: 0, clientId: participants[0]!.id, sampleSize: null });
      expect(submitted.filter((u) => u.id === slot?.id)).toHaveLength(2);
      expect(await Metric.query(api.knex).where({ trainingId: training.id }).resultSize()).toBe(1);
    });
  });

  describe('GET /api/models/{id}/ of an update', () => {
    it("when another participant downloads a participant's update (security 12.1.3), answers 403; the actor may", async () => {
      const { actor, participants, modelId, training } = await setupTraining(api, { state: 'O' });
      expect((await postUpdate(modelId, tokenAuth(participants[0]!))).status).toBe(201);
      const slot = await Upload.query(api.knex).findOne({ trainingId: training.id });
      const other = await request(api.app.callback())
        .get(`/api/models/${String(slot?.modelId)}/`)
        .set('Authorization', tokenAuth(participants[1]!));
      expect(other.status).toBe(403);
      const byActor = await request(api.app.callback())
        .get(`/api/models/${String(slot?.modelId)}/`)
        .set('Authorization', tokenAuth(actor));
      expect(byActor.status).toBe(200);
      const listed = await request(api.app.callback())
        .get(`/api/trainings/${training.id}/models/`)
        .set('Authorization', tokenAuth(participants[1]!));
      expect(idsOf(listed.body)).toEqual([modelId]);
      const all = await request(api.app.callback())
        .get(`/api/trainings/${training.id}/models/latest/`)
        .set('Authorization', tokenAuth(actor));
      expect(idsOf(all.body)).toEqual([modelId, slot?.modelId]);
    });
  });

  describe('POST /api/models/{id}/swag/', () => {
    const postSwag = (modelId: string, auth: string, first: Buffer, second: Buffer) =>
      request(api.app.callback())
        .post(`/api/models/${modelId}/swag/`)
        .set('Authorization', auth)
        .field('round', '0')
        .field('sample_size', '100')
        .attach('first_moment_file', first, 'first.safetensors')
        .attach('second_moment_file', second, 'second.safetensors');

    it('when a participant uploads moments in the SWAG round, answers 201 and fills the swag slot', async () => {
      const { participants, modelId, training } = await setupTraining(api, { state: 'S', uncertaintyMethod: 'SWAG' });
      const res = await postSwag(modelId, tokenAuth(participants[0]!), mlpMoments(0), mlpMoments(1));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ detail: 'SWAG Statistic Accepted' });
      const slot = await Upload.query(api.knex).findOne({ trainingId: training.id, phase: 'swag' });
      expect(slot).toMatchObject({ sampleSize: 100, clientId: participants[0]!.id });
      expect(slot?.secondBlobDigest).toMatch(/^[0-9a-f]{64}$/);
    });

    it('when a tensor is missing or the training is not in the SWAG round, answers 400 and stores nothing', async () => {
      const swag = await setupTraining(api, { state: 'S', uncertaintyMethod: 'SWAG' });
      const before = await rowCounts(api.knex);
      const missing = await postSwag(
        swag.modelId,
        tokenAuth(swag.participants[0]!),
        mlpMoments(0, '4.bias'),
        mlpMoments(1),
      );
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({
        detail: 'Invalid first_moment_file: has no tensor "4.bias".',
        details: { tensor: '4.bias' },
      });
      const ongoing = await setupTraining(api, { state: 'O' });
      const wrongState = await postSwag(
        ongoing.modelId,
        tokenAuth(ongoing.participants[0]!),
        mlpMoments(0),
        mlpMoments(1),
      );
      expect(wrongState.body).toMatchObject({ detail: `Training with ID ${ongoing.training.id} is in state O` });
      expect((await rowCounts(api.knex)).uploads).toBe(before.uploads);
    });
  });
});

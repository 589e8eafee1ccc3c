import request from 'supertest';
import { trainingCreatedResponse, trainingResponse } from '../../src/api/routes/trainings/schemas';
import type { TrainingOrchestrator } from '../../src/api/training-orchestrator';
import { FlModel } from '../../src/db/models/model';
import { findVersion } from '../../src/db/queries/models';
import { Training } from '../../src/db/models/training';
import { trainingWorkflowId } from '../../src/workflows/training/definitions';
import {
  buildApiUser,
  createTestApi,
  errorOf,
  idsOf,
  parseBody,
  rowCounts,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { setupTraining, uploadModel } from '../fixtures/api-models';

describe('/api/trainings/', () => {
  let api: TestApi;
  const started: string[] = [];

  beforeAll(async () => {
    api = await createTestApi({
      // The real orchestrator (trainings start as workflows; no worker runs them here), recording what starts.
      orchestrator: (_knex, inner): TrainingOrchestrator => {
        return {
          start: async (training) => {
            started.push(training.id);
            await inner.start(training);
          },
          submitUpload: (training, upload) => inner.submitUpload(training, upload),
          decline: (training, request) => inner.decline(training, request),
          addClients: (training, ids) => inner.addClients(training, ids),
          removeClients: (training, ids) => inner.removeClients(training, ids),
          cancel: (training) => inner.cancel(training),
          status: (training) => inner.status(training),
        };
      },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  const post = (body: unknown, auth: string) =>
    request(api.app.callback())
      .post('/api/trainings/')
      .set('Authorization', auth)
      .send(body as object);

  describe('POST /api/trainings/', () => {
    it('when the owner posts valid JSON with clients, answers 201 and stores an INITIAL training with them', async () => {
      const actor = await buildApiUser(api.knex);
      const clients = [await buildApiUser(api.knex), await buildApiUser(api.knex), await buildApiUser(api.knex)];
      const modelId = await uploadModel(api, actor);
      const res = await post(
        {
          model_id: modelId,
          target_num_updates: 3,
          metric_names: ['accuracy'],
          aggregation_method: 'FedProx',
          options: { proximal_mu: 0.01, round_timeout: 60 },
          clients: clients.map((c) => c.id),
        },
        tokenAuth(actor),
      );
      expect(res.status).toBe(201);
      const created = parseBody(trainingCreatedResponse, res.body);
      expect(created.detail).toBe('Training created successfully!');
      const get = await request(api.app.callback())
        .get(`/api/trainings/${created.training_id}/`)
        .set('Authorization', tokenAuth(actor));
      expect(get.body).toMatchObject({
        state: 'I',
        actor: actor.id,
        model: modelId,
        target_num_updates: 3,
        aggregation_method: 'FedProx',
        uncertainty_method: 'NONE',
        options: { proximal_mu: 0.01, round_timeout: 60 },
        local_models_arrived: 0,
        local_models_expected: 3,
      });
      expect(parseBody(trainingResponse, get.body).participants.sort()).toEqual(clients.map((c) => c.id).sort());
    });

    it('when aggregation_method is invalid, answers 400 listing every accepted value', async () => {
      const actor = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, actor);
      const res = await post(
        { model_id: modelId, target_num_updates: 1, aggregation_method: 'INVALID' },
        tokenAuth(actor),
      );
      expect(res.status).toBe(400);
      expect(String(errorOf(res.body).details?.aggregation_method)).toMatch(
        /^Must be one of: FedAvg, FedDC, FedProx, FedAvgM, .*Bulyan\.$/,
      );
    });

    it('when aggregation_method is missing or an option is unknown or belongs to another method, answers 400 per field', async () => {
      const actor = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, actor);
      const missing = await post({ model_id: modelId, target_num_updates: 1 }, tokenAuth(actor));
      expect(missing.body).toMatchObject({ details: { aggregation_method: ['Missing data for required field.'] } });
      const unknown = await post(
        { model_id: modelId, target_num_updates: 1, aggregation_method: 'FedAvg', options: { foo: 1 } },
        tokenAuth(actor),
      );
      expect(unknown.body).toMatchObject({
        detail: 'options.foo: Unknown field.',
        details: { 'options.foo': ['Unknown field.'] },
      });
      const foreign = await post(
        { model_id: modelId, target_num_updates: 1, aggregation_method: 'FedAvg', options: { proximal_mu: 0.1 } },
        tokenAuth(actor),
      );
      expect(foreign.body).toMatchObject({ details: { 'options.proximal_mu': ['Unknown field.'] } });
      const top = await post(
        { model_id: modelId, target_num_updates: 1, aggregation_method: 'FedAvg', foo: 1 },
        tokenAuth(actor),
      );
      expect(top.body).toMatchObject({ details: { foo: ['Unknown field.'] } });
    });

    it('when the model belongs to someone else, answers 403 with the reference text', async () => {
      const actor = await buildApiUser(api.knex);
      const modelId = await uploadModel(api, await buildApiUser(api.knex));
      const res = await post(
        { model_id: modelId, target_num_updates: 1, aggregation_method: 'FedAvg' },
        tokenAuth(actor),
      );
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ detail: 'You do not have permission to perform this action.' });
    });

    it('when a client does not exist, answers 400 and writes nothing (no training, no model copy)', async () => {
      const { actor, modelId } = await setupTraining(api);
      const before = await rowCounts(api.knex);
      const res = await post(
        {
          model_id: modelId,
          target_num_updates: 1,
          aggregation_method: 'FedAvg',
          clients: ['7d3c0e8e-8f6f-4b2f-9a51-3c4d2b1e0f99'],
        },
        tokenAuth(actor),
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'Not all provided users were found!' });
      expect(await rowCounts(api.knex)).toEqual(before);
    });

    it('when the model already has a training, the new training gets a copy of it', async () => {
      const { actor, modelId } = await setupTraining(api);
      const res = await post(
        { model_id: modelId, target_num_updates: 2, aggregation_method: 'FedAvg' },
        tokenAuth(actor),
      );
      expect(res.status).toBe(201);
      const training = await Training.query(api.knex).findById(
        parseBody(trainingCreatedResponse, res.body).training_id,
      );
      expect(training?.modelId).not.toBe(modelId);
      const copy = await FlModel.query(api.knex).findById(training?.modelId ?? '');
      const original = await FlModel.query(api.knex).findById(modelId);
      expect(copy).toMatchObject({ name: original?.name, round: 0, graphDigest: original?.graphDigest });
      const copied = await findVersion(api.knex, copy?.id ?? '', 0);
      expect(copied?.weightsDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(copied?.weightsDigest).toBe((await findVersion(api.knex, modelId, 0))?.weightsDigest);
    });
  });

  describe('GET /api/trainings/', () => {
    it('lists only the trainings whose actor is the caller', async () => {
      const a = await setupTraining(api);
      const b = await setupTraining(api);
      await api.knex('training_participants').insert({ training_id: b.training.id, user_id: a.actor.id });
      const res = await request(api.app.callback()).get('/api/trainings/').set('Authorization', tokenAuth(a.actor));
      expect(idsOf(res.body)).toEqual([a.training.id]);
    });
  });

  describe('GET /api/trainings/{id}/', () => {
    it('when a participant reads it, answers 200; a stranger gets 404 (the reference: 403), a malformed id 400', async () => {
      const { participants, training } = await setupTraining(api);
      const ok = await request(api.app.callback())
        .get(`/api/trainings/${training.id}/`)
        .set('Authorization', tokenAuth(participants[0]!));
      expect(ok.status).toBe(200);
      const stranger = await buildApiUser(api.knex);
      const hidden = await request(api.app.callback())
        .get(`/api/trainings/${training.id}`)
        .set('Authorization', tokenAuth(stranger));
      expect(hidden.status).toBe(404);
      expect(hidden.body).toMatchObject({ detail: `Training ${training.id} not found.` });
      const bad = await request(api.app.callback())
        .get('/api/trainings/xyz/')
        .set('Authorization', tokenAuth(stranger));
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ detail: 'Training xyz not found.' });
    });
  });

  describe('DELETE /api/trainings/{id}/', () => {
    it('when the actor deletes, answers 200 "Training removed!" and the model stays', async () => {
      const { actor, training, modelId } = await setupTraining(api);
      const res = await request(api.app.callback())
        .delete(`/api/trainings/${training.id}/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ detail: 'Training removed!' });
      expect(await Training.query(api.knex).findById(training.id)).toBeUndefined();
      expect(await FlModel.query(api.knex).findById(modelId)).toBeDefined();
    });

    it('when a participant or a stranger deletes, answers 403 "You are not the owner the training." and it stays', async () => {
      const { participants, training } = await setupTraining(api);
      for (const user of [participants[0]!, await buildApiUser(api.knex)]) {
        const res = await request(api.app.callback())
          .delete(`/api/trainings/${training.id}/`)
          .set('Authorization', tokenAuth(user));
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ detail: 'You are not the owner the training.' });
      }
      expect(await Training.query(api.knex).findById(training.id)).toBeDefined();
    });

    it('when the training does not exist, answers 404 with the reference text', async () => {
      const user = await buildApiUser(api.knex);
      const id = '0f3b9a3e-5a1d-4e59-8f0e-1f6c9d2b7a44';
      const res = await request(api.app.callback())
        .delete(`/api/trainings/${id}/`)
        .set('Authorization', tokenAuth(user));
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ detail: `Training ${id} not found.` });
    });
  });

  describe('PUT and DELETE /api/trainings/{id}/clients/', () => {
    it('when the actor registers 4 users (octet-stream body, as the reference test), answers 202; removing all leaves []', async () => {
      const { actor, training, participants } = await setupTraining(api);
      const users = [await buildApiUser(api.knex), await buildApiUser(api.knex), participants[0]!, participants[1]!];
      const put = await request(api.app.callback())
        .put(`/api/trainings/${training.id}/clients/`)
        .set('Authorization', tokenAuth(actor))
        .set('Content-Type', 'application/octet-stream')
        .send(JSON.stringify({ clients: users.map((u) => u.id) }));
      expect(put.status).toBe(202);
      expect(put.body).toEqual({ detail: 'Users registered as participants!' });
      const del = await request(api.app.callback())
        .delete(`/api/trainings/${training.id}/clients/`)
        .set('Authorization', tokenAuth(actor))
        .send({ clients: users.map((u) => u.id) });
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ detail: 'Users removed from training participants!' });
      const get = await request(api.app.callback())
        .get(`/api/trainings/${training.id}/`)
        .set('Authorization', tokenAuth(actor));
      expect(parseBody(trainingResponse, get.body).participants).toEqual([]);
    });

    it('when a user is unknown or an id malformed, answers 400 with the reference texts', async () => {
      const { actor, training } = await setupTraining(api);
      const unknown = await request(api.app.callback())
        .put(`/api/trainings/${training.id}/clients/`)
        .set('Authorization', tokenAuth(actor))
        .send({ clients: ['5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'] });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ detail: 'Not all provided users were found!' });
      const malformed = await request(api.app.callback())
        .put(`/api/trainings/${training.id}/clients/`)
        .set('Authorization', tokenAuth(actor))
        .send({ clients: ['nope'] });
      expect(malformed.body).toMatchObject({
        detail: 'clients.0: Not a valid UUID.',
        details: { 'clients.0': ['Not a valid UUID.'] },
      });
    });

    it('when a participant removes another participant (security 12.1.3), answers 403 and nobody is removed', async () => {
      const { participants, training } = await setupTraining(api);
      const res = await request(api.app.callback())
        .delete(`/api/trainings/${training.id}/clients/`)
        .set('Authorization', tokenAuth(participants[0]!))
        .send({ clients: [participants[1]!.id] });
      expect(res.status).toBe(403);
      expect(
        await api
          .knex('training_participants')
          .where('training_id', training.id)
          .count<{ count: string }[]>({ count: '*' }),
      ).toEqual([{ count: '2' }]);
    });
  });

  describe('POST /api/trainings/{id}/start/', () => {
    it('when the actor starts an INITIAL training with participants, answers 202 and hands it to the orchestrator', async () => {
      const { actor, training } = await setupTraining(api);
      const res = await request(api.app.callback())
        .post(`/api/trainings/${training.id}/start/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ detail: 'Training started!' });
      expect(started).toContain(training.id);
      expect(await Training.query(api.knex).findById(training.id)).toMatchObject({
        state: 'O',
        workflowId: trainingWorkflowId(training.id),
      });
    });

    it('when there are no participants, answers 400 with the reference text', async () => {
      const { actor, training } = await setupTraining(api, { participants: 0 });
      const res = await request(api.app.callback())
        .post(`/api/trainings/${training.id}/start/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'At least one participant must be registered!' });
    });

    it('when the training is ONGOING, answers 400 with the reference text', async () => {
      const { actor, training } = await setupTraining(api, { state: 'O' });
      const res = await request(api.app.callback())
        .post(`/api/trainings/${training.id}/start/`)
        .set('Authorization', tokenAuth(actor));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: `Training ${training.id} is not in state INITIAL!` });
    });

    it('when a participant starts it (security 12.1.3), answers 403 and it stays INITIAL', async () => {
      const { participants, training } = await setupTraining(api);
      const res = await request(api.app.callback())
        .post(`/api/trainings/${training.id}/start/`)
        .set('Authorization', tokenAuth(participants[0]!));
      expect(res.status).toBe(403);
      expect(started).not.toContain(training.id);
      expect((await Training.query(api.knex).findById(training.id))?.state).toBe('I');
    });
  });
});

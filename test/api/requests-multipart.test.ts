import request from 'supertest';
import { modelCreatedResponse } from '../../src/api/routes/models/schemas';
import { FlModel } from '../../src/db/models/model';
import { Upload } from '../../src/db/models/upload';
import { buildApiUser, createTestApi, parseBody, tokenAuth, type TestApi } from '../fixtures/api-app';
import { mlpMoments, setupTraining, uploadModel } from '../fixtures/api-models';
import { fixture } from '../fixtures/onnx-edge-cases';
import { requestsMultipart } from '../support/requests-multipart';

describe('multipart uploads as Python requests sends them (file parts without Content-Type)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({
      orchestrator: () => ({
        start: () => Promise.resolve(),
        submitUpload: () => Promise.resolve(),
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

  const post = (path: string, auth: string, multipart: { contentType: string; body: Buffer }) =>
    request(api.app.callback())
      .post(path)
      .set('Authorization', auth)
      .set('Content-Type', multipart.contentType)
      .send(multipart.body);

  it('POST /api/models/: the model and its preprocessing graph are taken as files', async () => {
    const owner = await buildApiUser(api.knex);
    const res = await post(
      '/api/models/',
      tokenAuth(owner),
      requestsMultipart(
        [
          ['name', 'mlp'],
          ['description', 'uploaded like dlr.fl.client'],
        ],
        [
          ['model_file', fixture('mlp-global-r0.onnx')],
          ['model_preprocessing_file', fixture('preprocess-rgb-to-mnist.onnx')],
        ],
      ),
    );
    expect(res.status).toBe(201);
    const model = await FlModel.query(api.knex).findById(parseBody(modelCreatedResponse, res.body).model_id);
    expect(model).toMatchObject({ type: 'GLOBAL', name: 'mlp', description: 'uploaded like dlr.fl.client' });
    expect(model?.preprocessingDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('POST /api/models/{id}/: the update is taken as a file and fills the slot', async () => {
    const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
    const res = await post(
      `/api/models/${modelId}/`,
      tokenAuth(participants[0]!),
      requestsMultipart(
        [
          ['round', '0'],
          ['sample_size', '3000'],
          ['owner', participants[0]!.username],
        ],
        [['model_file', fixture('mlp-client-a.onnx')]],
      ),
    );
    expect(res.body).toEqual({ detail: 'Model Update Accepted' });
    expect(res.status).toBe(201);
    const slot = await Upload.query(api.knex).findOne({ trainingId: training.id, phase: 'update' });
    expect(slot).toMatchObject({ clientId: participants[0]!.id, sampleSize: 3000 });
  });

  it('POST /api/models/{id}/swag/: both moments are taken as files', async () => {
    const { participants, modelId, training } = await setupTraining(api, { state: 'S', uncertaintyMethod: 'SWAG' });
    const res = await post(
      `/api/models/${modelId}/swag/`,
      tokenAuth(participants[0]!),
      requestsMultipart(
        [
          ['round', '0'],
          ['sample_size', '100'],
        ],
        [
          ['first_moment_file', mlpMoments(0)],
          ['second_moment_file', mlpMoments(1)],
        ],
      ),
    );
    expect(res.body).toEqual({ detail: 'SWAG Statistic Accepted' });
    expect(res.status).toBe(201);
    expect(await Upload.query(api.knex).findOne({ trainingId: training.id, phase: 'swag' })).toBeDefined();
  });

  it('POST /api/models/{id}/preprocessing/: the graph is taken as a file', async () => {
    const owner = await buildApiUser(api.knex);
    const id = await uploadModel(api, owner);
    const res = await post(
      `/api/models/${id}/preprocessing/`,
      tokenAuth(owner),
      requestsMultipart([], [['model_preprocessing_file', fixture('preprocess-rgb-to-mnist.onnx')]]),
    );
    expect(res.body).toEqual({ detail: 'Proprocessing Model Upload Accepted' });
    expect(res.status).toBe(202);
  });

  it('POST /api/inference/: the input file is taken as a file', async () => {
    const owner = await buildApiUser(api.knex);
    const id = await uploadModel(api, owner, { preprocessing: fixture('preprocess-rgb-to-mnist.onnx') });
    const res = await post(
      '/api/inference/',
      tokenAuth(owner),
      requestsMultipart(
        [
          ['model_id', id],
          ['return_format', 'json'],
        ],
        [['model_input', fixture('digit-9.png')]],
      ),
    );
    expect(res.status).toBe(200);
    expect((res.body as { inference: unknown[] }).inference).toHaveLength(1);
  });

  it('a part with an empty filename (an empty file input of a browser form) is a file too, not a field', async () => {
    const { participants, modelId } = await setupTraining(api, { state: 'O' });
    const multipart = requestsMultipart(
      [
        ['round', '0'],
        ['sample_size', '1'],
      ],
      [],
    );
    const boundary = multipart.contentType.split('boundary=')[1]!;
    const body = Buffer.concat([
      multipart.body.subarray(0, multipart.body.length - `--${boundary}--\r\n`.length),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model_file"; filename=""\r\n\r\n\r\n`),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res = await post(`/api/models/${modelId}/`, tokenAuth(participants[0]!), {
      contentType: multipart.contentType,
      body,
    });
    expect(res.status).toBe(400);
    expect((res.body as { detail: string }).detail).not.toMatch(/Unknown field/);
  });
});

import request from 'supertest';
import { Dataset } from '../../src/db/models/dataset';
import { openDataset } from '../../src/datasets/reader';
import type { User } from '../../src/db/models/user';
import {
  blobDigests,
  buildApiUser,
  createTestApi,
  errorOf,
  TEST_LIMITS,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { uploadModel } from '../fixtures/api-models';
import { postTraining, SMALL_DATASET_INPUT, uploadDataset } from '../fixtures/api-datasets';
import { npyFile, safetensorsFile, smallDataset } from '../fixtures/datasets';

describe('POST /api/datasets/', () => {
  let api: TestApi;
  let owner: User;

  beforeAll(async () => {
    api = await createTestApi();
    owner = await buildApiUser(api.knex);
  });

  afterAll(async () => {
    await api.close();
  });

  const post = () => request(api.app.callback()).post('/api/datasets/').set('Authorization', tokenAuth(owner));

  /** What a refused upload must leave as it was: the dataset rows and the stored blobs. */
  async function stored(): Promise<{ datasets: number; blobs: string[] }> {
    return { datasets: await Dataset.query(api.knex).resultSize(), blobs: await blobDigests(api.blobs) };
  }

  it('when a safetensors file with x and y is uploaded, answers 201 with its metadata and stores it as one blob', async () => {
    const res = await post()
      .field('name', 'digits')
      .field('description', 'ten rows')
      .attach('file', safetensorsFile(smallDataset(10)), 'data.safetensors');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number) as number,
      name: 'digits',
      description: 'ten rows',
      rows: 10,
      x_dtype: 'float32',
      x_shape: [10, 2, 3],
      y_dtype: 'int64',
      y_shape: [10],
      share_with_participants: false,
      url: `/api/datasets/${(res.body as { id: number }).id}/points/`,
      owner: owner.id,
      created_at: expect.any(String) as string,
    });
    const row = await Dataset.query(api.knex).findById((res.body as { id: number }).id);
    const reader = await openDataset(api.blobs, row?.blobDigest ?? '');
    expect(Array.from(await reader.readRows('y', 0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('when x and y come as .npy files, answers 201 with their dtypes and shapes, shared when asked', async () => {
    const res = await post()
      .field('name', 'regression')
      .field('share_with_participants', 'true')
      .attach(
        'x',
        npyFile(
          '<u1',
          [3, 4],
          Uint8Array.from({ length: 12 }, (_, i) => i),
        ),
        'x.npy',
      )
      .attach('y', npyFile('<f8', [3, 2], Float64Array.from([0.5, 1, 1.5, 2, 2.5, 3])), 'y.npy');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'regression',
      description: '',
      rows: 3,
      x_dtype: 'uint8',
      x_shape: [3, 4],
      y_dtype: 'float64',
      y_shape: [3, 2],
      share_with_participants: true,
    });
  });

  const { x, y } = smallDataset(4);
  const nan = Float32Array.from({ length: 24 }, (_, i) => (i === 7 ? NaN : i));
  it.each([
    [
      'x and y of different row counts',
      () => post().attach('file', safetensorsFile({ x, y: { ...y, shape: [3], values: new BigInt64Array(3) } }), 'f'),
      'x has 4 rows but y has 3',
    ],
    [
      'a NaN in x',
      () => post().attach('file', safetensorsFile({ x: { ...x, values: nan }, y }), 'f'),
      'x holds NaN in row 1 (element 7)',
    ],
    [
      'an unsupported dtype',
      () =>
        post().attach('file', safetensorsFile({ x: { dtype: 'BOOL', shape: [4], values: new Uint8Array(4) }, y }), 'f'),
      'x has dtype BOOL; supported are',
    ],
    [
      'a tensor beside x and y',
      () => post().attach('file', safetensorsFile({ x, y, extra: y }), 'f'),
      'a dataset file holds exactly "x" and "y"',
    ],
    ['no y', () => post().attach('file', safetensorsFile({ x }), 'f'), '(missing: y)'],
    [
      'a malformed safetensors file',
      () => post().attach('file', Buffer.from('{"x": 1}'), 'f'),
      "File 'file' is not a valid safetensors file",
    ],
    [
      'a file and an x',
      () =>
        post()
          .attach('file', safetensorsFile({ x, y }), 'f')
          .attach('x', npyFile('<f4', [1], new Float32Array(1)), 'x.npy'),
      "The upload has 'file', 'x': send either 'file'",
    ],
    [
      'x without y',
      () => post().attach('x', npyFile('<f4', [1], new Float32Array(1)), 'x.npy'),
      "The upload has 'x': send either",
    ],
    ['no file at all', () => post().field('description', 'nothing'), 'The upload has no file'],
    ['an unknown file field', () => post().attach('data', safetensorsFile({ x, y }), 'f'), "Unknown file field 'data'"],
    [
      'a malformed .npy x',
      () =>
        post()
          .attach('x', Buffer.from('not numpy'), 'x.npy')
          .attach('y', npyFile('<i8', [1], new BigInt64Array(1)), 'y.npy'),
      "Dataset file 'x' is not a valid .npy file",
    ],
    [
      'an empty name',
      () => post().field('name', ' ').attach('file', safetensorsFile({ x, y }), 'f'),
      'name: This field may not be blank.',
    ],
  ])('when the upload has %s, answers 400 saying so and stores nothing', async (_, send, text) => {
    const before = await stored();
    let req = send();
    if (!text.startsWith('name:')) {
      req = req.field('name', 'refused');
    }
    const res = await req;
    expect(res.status).toBe(400);
    expect(errorOf(res.body).detail).toContain(text);
    expect(await stored()).toEqual(before);
  });

  it('when the files together exceed the dataset limit, answers 413 and stores nothing', async () => {
    const before = await stored();
    const half = TEST_LIMITS.datasetBytes / 2;
    const res = await post()
      .field('name', 'too large')
      .attach('x', npyFile('<u1', [half], new Uint8Array(half)), 'x.npy')
      .attach('y', npyFile('<u1', [half], new Uint8Array(half)), 'y.npy');
    expect(res.status).toBe(413);
    expect(errorOf(res.body).detail).toBe(`Dataset too large: the limit is ${TEST_LIMITS.datasetBytes} bytes.`);
    const one = await post()
      .field('name', 'too large')
      .attach('file', Buffer.alloc(TEST_LIMITS.datasetBytes + 1), 'big.safetensors');
    expect(one.status).toBe(413);
    expect(await stored()).toEqual(before);
  });

  it('when the body is JSON, answers 415: a dataset comes as files', async () => {
    const res = await post().send({ name: 'json' });
    expect(res.status).toBe(415);
    expect(errorOf(res.body).detail).toBe("Only Content-Type 'multipart/form-data' is supported.");
  });
});

describe('POST /api/trainings/ with options.evaluation_dataset', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('when the actor owns the dataset, the training is created and keeps its id as a number', async () => {
    const actor = await buildApiUser(api.knex);
    const dataset = await uploadDataset(api, actor);
    const modelId = await uploadModel(api, actor, { inputShape: SMALL_DATASET_INPUT });
    const res = await postTraining(api, actor, modelId, { evaluation_dataset: dataset.id });
    expect(res.status).toBe(201);
    const training = await request(api.app.callback())
      .get(`/api/trainings/${(res.body as { training_id: string }).training_id}/`)
      .set('Authorization', tokenAuth(actor));
    expect(training.body).toMatchObject({ options: { evaluation_dataset: dataset.id } });
  });

  it("when the dataset is another user's or does not exist, answers 400 and creates nothing", async () => {
    const actor = await buildApiUser(api.knex);
    const other = await uploadDataset(api, await buildApiUser(api.knex));
    const modelId = await uploadModel(api, actor);
    for (const id of [other.id, 999_999_999]) {
      const res = await postTraining(api, actor, modelId, { evaluation_dataset: id });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        detail: `options.evaluation_dataset: Dataset ${id} not found.`,
        details: { 'options.evaluation_dataset': [`Dataset ${id} not found.`] },
      });
    }
    const named = await postTraining(api, actor, modelId, { evaluation_dataset: 'mnist' });
    expect(named.status).toBe(400);
    expect(named.body).toMatchObject({ details: { 'options.evaluation_dataset': ['Not a valid number.'] } });
    const trainings = await api.knex('trainings').where({ actor_id: actor.id }).count<{ count: string }[]>('*');
    expect(Number(trainings[0]?.count)).toBe(0);
  });
});

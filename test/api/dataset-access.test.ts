import request from 'supertest';
import { z } from 'zod';
import { pointsResponse } from '../../src/api/routes/datasets/schemas';
import { Dataset } from '../../src/db/models/dataset';
import { Training } from '../../src/db/models/training';
import type { User } from '../../src/db/models/user';
import { listReferencedDigests } from '../../src/db/queries/blobs';
import { buildApiUser, createTestApi, errorOf, idsOf, tokenAuth, type TestApi } from '../fixtures/api-app';
import { datasetInTraining, uploadDataset } from '../fixtures/api-datasets';

describe('GET /api/datasets/{id}/points/', () => {
  let api: TestApi;
  let owner: User;
  let id: number;

  beforeAll(async () => {
    api = await createTestApi();
    owner = await buildApiUser(api.knex);
    id = (await uploadDataset(api, owner, { rows: 25 })).id;
  });

  afterAll(async () => {
    await api.close();
  });

  const points = (query: string, user: User = owner, dataset = id) =>
    request(api.app.callback()).get(`/api/datasets/${dataset}/points/${query}`).set('Authorization', tokenAuth(user));

  it('when the owner reads a page, answers its rows as points with x as nested lists and y as numbers', async () => {
    const res = await points('?offset=3&limit=2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      count: 25,
      offset: 3,
      limit: 2,
      next: `/api/datasets/${id}/points/?offset=5&limit=2`,
      points: [
        {
          index: 3,
          x: [
            [2.25, 2.375, 2.5],
            [2.625, 2.75, 2.875],
          ],
          y: 3,
        },
        {
          index: 4,
          x: [
            [3, 3.125, 3.25],
            [3.375, 3.5, 3.625],
          ],
          y: 4,
        },
      ],
    });
  });

  it('when pages are followed by `next`, every row comes once and the last page has no next', async () => {
    const indices: number[] = [];
    let path: string | null = `/api/datasets/${id}/points/?limit=10`;
    while (path !== null) {
      const res = await request(api.app.callback()).get(path).set('Authorization', tokenAuth(owner));
      const page = pointsResponse.parse(res.body);
      indices.push(...page.points.map((p) => p.index));
      path = page.next;
    }
    expect(indices).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('when no page is asked for, answers the first 100 rows; a limit above 1000 is taken as 1000', async () => {
    expect(pointsResponse.parse((await points('')).body)).toMatchObject({ offset: 0, limit: 100, next: null });
    expect(pointsResponse.parse((await points('?limit=5000')).body).limit).toBe(1000);
  });

  it('when the offset is at or past the end, answers no points and no next page', async () => {
    for (const offset of [25, 1000]) {
      const res = await points(`?offset=${offset}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ count: 25, offset, points: [], next: null });
    }
  });

  it.each([
    ['?offset=-1', 'offset'],
    ['?limit=0', 'limit'],
    ['?offset=two', 'offset'],
  ])('when the query is %s, answers 400 naming %s', async (query, field) => {
    const res = await points(query);
    expect(res.status).toBe(400);
    expect(errorOf(res.body).details).toHaveProperty(field);
  });

  it('when the id is not an integer or no dataset has it, answers "Dataset <id> not found."', async () => {
    const malformed = await request(api.app.callback())
      .get('/api/datasets/abc/points/')
      .set('Authorization', tokenAuth(owner));
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed.body).detail).toBe('Dataset abc not found.');
    const missing = await points('', owner, 999_999_999);
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body).detail).toBe('Dataset 999999999 not found.');
  });
});

describe('who may see, read and delete a dataset', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const get = (path: string, user: User) => request(api.app.callback()).get(path).set('Authorization', tokenAuth(user));
  const remove = (id: number, user: User) =>
    request(api.app.callback()).delete(`/api/datasets/${id}/`).set('Authorization', tokenAuth(user));

  it('when the owner does not share it, a participant sees its description but is refused its rows (403)', async () => {
    const { participant, owner, dataset } = await datasetInTraining(api, { shared: false });
    const meta = await get(`/api/datasets/${dataset.id}/`, participant);
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ id: dataset.id, description: 'held-out digits', share_with_participants: false });
    expect(idsOf((await get('/api/datasets/', participant)).body)).toEqual([String(dataset.id)]);
    const rows = await get(`/api/datasets/${dataset.id}/points/`, participant);
    expect(rows.status).toBe(403);
    expect(errorOf(rows.body).detail).toBe(
      `Dataset ${dataset.id} is not shared with participants: only its owner may read its rows.`,
    );
    expect((await get(`/api/datasets/${dataset.id}/points/`, owner)).status).toBe(200);
  });

  it('when the owner shares it, a participant reads its rows', async () => {
    const { participant, dataset } = await datasetInTraining(api, { shared: true, rows: 3 });
    const rows = await get(`/api/datasets/${dataset.id}/points/`, participant);
    expect(rows.status).toBe(200);
    expect(pointsResponse.parse(rows.body).points.map((p) => p.y)).toEqual([0, 1, 2]);
  });

  it('when a stranger asks, every dataset route answers 404 and the list does not name it', async () => {
    const { stranger, dataset } = await datasetInTraining(api, { shared: true });
    for (const path of [`/api/datasets/${dataset.id}/`, `/api/datasets/${dataset.id}/points/`]) {
      const res = await get(path, stranger);
      expect(res.status).toBe(404);
      expect(errorOf(res.body).detail).toBe(`Dataset ${dataset.id} not found.`);
    }
    expect((await remove(dataset.id, stranger)).status).toBe(404);
    expect(idsOf((await get('/api/datasets/', stranger)).body)).toEqual([]);
  });

  it('when the owner lists datasets, answers its own ones, by id', async () => {
    const owner = await buildApiUser(api.knex);
    const first = await uploadDataset(api, owner, { name: 'first' });
    const second = await uploadDataset(api, owner, { name: 'second' });
    expect(idsOf((await get('/api/datasets/', owner)).body)).toEqual([String(first.id), String(second.id)]);
  });

  it('when a training that has not finished names it, deleting is refused (409); a participant may not delete (403)', async () => {
    const { owner, participant, dataset, trainingId } = await datasetInTraining(api, { shared: true });
    const refused = await remove(dataset.id, participant);
    expect(refused.status).toBe(403);
    expect(errorOf(refused.body).detail).toBe(`Only the owner of dataset ${dataset.id} may delete it.`);
    for (const state of ['I', 'O', 'S'] as const) {
      await Training.query(api.knex).patchAndFetchById(trainingId, { state });
      const res = await remove(dataset.id, owner);
      expect(res.status).toBe(409);
      expect(errorOf(res.body).detail).toContain(
        `Dataset ${dataset.id} is the evaluation dataset of training ${trainingId}`,
      );
    }
    expect(await Dataset.query(api.knex).findById(dataset.id)).toBeDefined();
  });

  it('when the owner deletes it after its training completed, it is gone and its blob is left to the sweep', async () => {
    // A row count no other test uploads, so no other dataset shares the blob.
    const { owner, participant, dataset, trainingId } = await datasetInTraining(api, { shared: true, rows: 17 });
    const row = await Dataset.query(api.knex).findById(dataset.id);
    expect((await listReferencedDigests(api.knex)).has(row?.blobDigest ?? '')).toBe(true);
    await Training.query(api.knex).patchAndFetchById(trainingId, { state: 'C' });
    const res = await remove(dataset.id, owner);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ detail: 'Dataset removed!' });
    expect((await get(`/api/datasets/${dataset.id}/`, owner)).status).toBe(404);
    expect((await get(`/api/datasets/${dataset.id}/`, participant)).status).toBe(404);
    const stillUsed = await Dataset.query(api.knex)
      .where({ blobDigest: row?.blobDigest ?? '' })
      .resultSize();
    expect((await listReferencedDigests(api.knex)).has(row?.blobDigest ?? '')).toBe(stillUsed > 0);
  });

  it('when a participant lists datasets, it gets those of the trainings it takes part in, metadata only', async () => {
    const { participant, dataset } = await datasetInTraining(api, { shared: false });
    const body = z.array(z.record(z.string(), z.unknown())).parse((await get('/api/datasets/', participant)).body);
    expect(body).toEqual([expect.objectContaining({ id: dataset.id, rows: dataset.rows, url: dataset.url })]);
  });
});

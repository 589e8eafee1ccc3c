import request from 'supertest';
import { blobDigests, buildApiUser, createTestApi, rowCounts, tokenAuth, type TestApi } from '../fixtures/api-app';
import { fixture } from '../fixtures/onnx-edge-cases';

/** Each class of bad input: the status, the detail, and nothing written (rows and blobs unchanged). */
describe('bad input', () => {
  let api: TestApi;

  beforeAll(async () => {
    // Small limits: a 100 kB upload limit refuses the 400 kB MLP; a 2 kB body limit refuses a large JSON body.
    api = await createTestApi({ limits: { uploadBytes: 100_000, bodyBytes: 2_048 } });
  });

  afterAll(async () => {
    await api.close();
  });

  async function snapshot(): Promise<[Record<string, number>, string[]]> {
    return [await rowCounts(api.knex), await blobDigests(api.blobs)];
  }

  it('when the Content-Type is not JSON, form or multipart, answers 415 and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', tokenAuth(user))
      .set('Content-Type', 'text/plain')
      .send('name=x');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      detail: 'Unsupported media type "text/plain" in request.',
      code: 'unsupported_media_type',
    });
    const anonymous = await request(api.app.callback())
      .post('/api/users/')
      .set('Content-Type', 'application/xml')
      .send('<u/>');
    expect(anonymous.status).toBe(415);
    expect(await snapshot()).toEqual(before);
  });

  it('when the method is one no route of the path serves (TRACE), answers JSON 405 with Allow', async () => {
    const user = await buildApiUser(api.knex);
    const res = await request(api.app.callback()).trace('/api/models/').set('Authorization', tokenAuth(user));
    expect(res).toMatchObject({
      status: 405,
      headers: { allow: 'HEAD, GET, POST' },
      body: { detail: 'Method "TRACE" not allowed.', code: 'method_not_allowed' },
    });
  });

  it('when form fields are named __proto__ or constructor, answers 400 naming them as unknown and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    for (const path of ['/api/groups/', '/actions/add_group/']) {
      const res = await request(api.app.callback())
        .post(path)
        .set('Authorization', tokenAuth(user))
        .type('form')
        .send('__proto__=false&__proto__=null&constructor=x&group_name=g&name=g&public=null');
      expect(res.status).toBe(400);
      const details = (res.body as { details: Record<string, string[]> }).details;
      expect(Object.keys(details)).toEqual(expect.arrayContaining(['__proto__', 'constructor']));
      expect(Object.getPrototypeOf(details)).toBe(Object.prototype);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('when a text field holds a NUL character (Postgres cannot store it), answers 400 naming it and writes nothing', async () => {
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/users/')
      .send({ username: `nul-${Date.now()}`, password: 'x', last_name: 'Do\u0000e' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: 'last_name: Null characters are not allowed.',
      code: 'invalid_input',
      details: { last_name: ['Null characters are not allowed.'] },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('when a number is beyond the database column (2^31 rounds), answers 400 naming the field, not a constraint', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/trainings/')
      .set('Authorization', tokenAuth(user))
      .send({
        model_id: '0c6e5a1b-2d3f-4e5a-8b7c-9d0e1f2a3b4c',
        target_num_updates: 2 ** 31,
        aggregation_method: 'FedAvg',
      });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ detail: 'target_num_updates: Must be less than or equal to 2147483647.' });
    expect(await snapshot()).toEqual(before);
  });

  it('when a group name is longer than 150 characters as sent, answers 400 even if trimming would shorten it', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name: `\n${'b'.repeat(150)}` });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ details: { name: ['Ensure this field has no more than 150 characters.'] } });
    expect(await snapshot()).toEqual(before);
  });

  it('when a form names a field with an empty or bracketed name, answers 400 as for any unknown field', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const post = (body: string) =>
      request(api.app.callback()).post('/api/groups/').set('Authorization', tokenAuth(user)).type('form').send(body);
    const empty = await post(`name=form-${user.id}&=g`);
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ detail: 'Unknown field.', code: 'invalid_input' });
    const bracketed = await post(`name=form-${user.id}&a%5Bb%5D=1`);
    expect(bracketed.status).toBe(400);
    expect(bracketed.body).toMatchObject({ detail: 'a[b]: Unknown field.' });
    expect(await snapshot()).toEqual(before);
    const plain = await post(`name=form-${user.id}+ok`);
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ name: `form-${user.id} ok` });
  });

  it('when a required field is missing, answers 400 naming it and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/trainings/')
      .set('Authorization', tokenAuth(user))
      .send({ model_id: '0c6e5a1b-2d3f-4e5a-8b7c-9d0e1f2a3b4c', aggregation_method: 'FedAvg' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      detail: 'target_num_updates: Missing data for required field.',
      code: 'invalid_input',
      details: { target_num_updates: ['Missing data for required field.'] },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('when a field has the wrong type, answers 400 naming it and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback()).post('/api/trainings/').set('Authorization', tokenAuth(user)).send({
      model_id: '0c6e5a1b-2d3f-4e5a-8b7c-9d0e1f2a3b4c',
      target_num_updates: 'three',
      aggregation_method: 'FedAvg',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ detail: 'target_num_updates: Not a valid number.', code: 'invalid_input' });
    const form = await request(api.app.callback())
      .post('/api/users/')
      .type('form')
      .send({ username: `typed-${user.id}`, password: 'x', actor: 'maybe' });
    expect(form.status).toBe(400);
    expect(form.body).toMatchObject({ code: 'invalid_input', details: { actor: expect.any(Array) as unknown } });
    expect(await snapshot()).toEqual(before);
  });

  it('when a file or a body is beyond the configured limit, answers 413 and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const upload = await request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', tokenAuth(user))
      .field('name', 'big')
      .field('description', 'too big')
      .attach('model_file', fixture('mlp-global-r0.onnx'), 'm.onnx');
    expect(upload.status).toBe(413);
    expect(upload.body).toEqual({
      detail: 'Request body too large: the limit is 100000 bytes.',
      code: 'payload_too_large',
    });
    const json = await request(api.app.callback())
      .post('/api/users/')
      .send({ username: `big-${user.id}`, password: 'x', first_name: 'y'.repeat(4_000) });
    expect(json.status).toBe(413);
    expect(json.body).toMatchObject({ code: 'payload_too_large' });
    // A JSON body on a route that also takes files names the limit it passed, the body limit.
    const inference = await request(api.app.callback())
      .post('/api/inference/')
      .set('Authorization', tokenAuth(user))
      .send({ model_id: user.id, model_input: Array.from({ length: 1_000 }, () => 1.5) });
    expect(inference.status).toBe(413);
    expect(inference.body).toEqual({
      detail: 'Request body too large: the limit is 2048 bytes.',
      code: 'payload_too_large',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('when the model does not exist, answers 404 with the reference text and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const id = '0c6e5a1b-2d3f-4e5a-8b7c-9d0e1f2a3b4c';
    const before = await snapshot();
    const training = await request(api.app.callback())
      .post('/api/trainings/')
      .set('Authorization', tokenAuth(user))
      .send({ model_id: id, target_num_updates: 1, aggregation_method: 'FedAvg' });
    expect(training.status).toBe(404);
    expect(training.body).toEqual({ detail: `Model ${id} not found.`, code: 'not_found' });
    const metrics = await request(api.app.callback())
      .post(`/api/models/${id}/metrics/`)
      .set('Authorization', tokenAuth(user))
      .send({ metric_names: ['a'], metric_values: [1] });
    expect(metrics.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('when an id is not a UUID, answers 400 with the reference text and writes nothing', async () => {
    const user = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/models/not-a-uuid/metrics/')
      .set('Authorization', tokenAuth(user))
      .send({ metric_names: ['a'], metric_values: [1] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ detail: 'Model not-a-uuid not found.', code: 'invalid_input' });
    const training = await request(api.app.callback())
      .post('/api/trainings/123/start/')
      .set('Authorization', tokenAuth(user));
    expect(training.status).toBe(400);
    expect(training.body).toMatchObject({ detail: 'Training 123 not found.' });
    expect(await snapshot()).toEqual(before);
  });

  it('when the method is not routed, answers 405 with the reference text', async () => {
    const user = await buildApiUser(api.knex);
    const res = await request(api.app.callback()).patch('/api/trainings/').set('Authorization', tokenAuth(user));
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ detail: 'Method "PATCH" not allowed.', code: 'method_not_allowed' });
  });

  it('when the JSON is malformed, answers 400 "JSON parse error - ..." and writes nothing', async () => {
    const owner = await buildApiUser(api.knex);
    const before = await snapshot();
    const res = await request(api.app.callback())
      .post('/api/trainings/')
      .set('Authorization', tokenAuth(owner))
      .set('Content-Type', 'application/json')
      .send('{"model_id": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      detail: expect.stringMatching(/^JSON parse error - /) as unknown,
      code: 'invalid_input',
    });
    expect(await snapshot()).toEqual(before);
  });
});

import request from 'supertest';
import { userResponse } from '../../src/api/routes/users/schemas';
import { Group } from '../../src/db/models/group';
import { User } from '../../src/db/models/user';
import {
  basicAuth,
  buildApiUser,
  createTestApi,
  errorOf,
  idsOf,
  parseBody,
  rowCounts,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { buildGlobalModel, buildTraining } from '../fixtures/factories';

describe('/api/users/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  describe('GET /api/users/', () => {
    it('when authenticated with Basic, lists the caller with every field and no stranger', async () => {
      const user = await buildApiUser(api.knex, { firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com' });
      const stranger = await buildApiUser(api.knex);
      const res = await request(api.app.callback()).get('/api/users/').set('Authorization', basicAuth(user));
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        {
          username: user.username,
          first_name: 'Jane',
          last_name: 'Doe',
          email: 'jane@example.com',
          id: user.id,
          actor: false,
          client: false,
          message_endpoint: '',
          token: user.token,
        },
      ]);
      expect(JSON.stringify(res.body)).not.toContain(stranger.id);
    });

    it('when authenticated with a token (Token, Bearer, or Basic with the token and no password), answers 200', async () => {
      const user = await buildApiUser(api.knex);
      const basicToken = `Basic ${Buffer.from(`${user.token}:`).toString('base64')}`;
      for (const header of [tokenAuth(user), `Bearer ${user.token}`, basicToken]) {
        const res = await request(api.app.callback()).get('/api/users/').set('Authorization', header);
        expect(res.status).toBe(200);
      }
    });

    it('when the users share a training, each sees the other', async () => {
      const actor = await buildApiUser(api.knex);
      const client = await buildApiUser(api.knex);
      const model = await buildGlobalModel(api.knex, actor.id);
      const training = await buildTraining(api.knex, actor.id, model.id);
      await api.knex('training_participants').insert({ training_id: training.id, user_id: client.id });
      const res = await request(api.app.callback()).get('/api/users').set('Authorization', tokenAuth(client));
      expect(res.status).toBe(200);
      expect(idsOf(res.body).sort()).toEqual([actor.id, client.id].sort());
    });

    it('when no credentials are given, answers 401 with WWW-Authenticate: Token', async () => {
      const res = await request(api.app.callback()).get('/api/users/');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Token');
      expect(res.body).toEqual({ detail: 'Authentication credentials were not provided.', code: 'not_authenticated' });
    });

    it('when the password, the token or the account is wrong, answers 401 with the reference texts', async () => {
      const user = await buildApiUser(api.knex);
      const inactive = await buildApiUser(api.knex, { isActive: false });
      const cases: Array<[string, string]> = [
        [basicAuth(user, 'wrong'), 'Invalid username/password.'],
        [`Token ${'0'.repeat(40)}`, 'Invalid token.'],
        [tokenAuth(inactive), 'User inactive or deleted.'],
        [basicAuth(inactive), 'Invalid username/password.'],
      ];
      for (const [header, detail] of cases) {
        const res = await request(api.app.callback()).get('/api/users/').set('Authorization', header);
        expect({ status: res.status, detail: errorOf(res.body).detail }).toEqual({ status: 401, detail });
      }
    });
  });

  describe('POST /api/users/', () => {
    it('when anonymous with JSON, creates the user with an argon2 hash and answers with its token', async () => {
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({
          username: `jane-${Date.now()}`,
          password: 'secret',
          first_name: 'Jane',
          last_name: 'Doe',
          email: 'jane.doe@example.com',
          message_endpoint: 'http://example.com/',
          actor: true,
          client: true,
        });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        first_name: 'Jane',
        actor: true,
        client: true,
        message_endpoint: 'http://example.com/',
      });
      const created = parseBody(userResponse, res.body);
      expect(created.token).toMatch(/^[0-9a-f]{40}$/);
      // The key of the pushes' signatures, shown here once.
      expect(created.notification_secret).toMatch(/^[0-9a-f]{64}$/);
      const row = await User.query(api.knex).findById(created.id);
      expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(row?.notificationSecret).toBe(created.notification_secret);
      const me = await request(api.app.callback())
        .get(`/api/users/${created.id}/`)
        .set('Authorization', `Token ${String(created.token)}`);
      expect(me.body).toMatchObject({ token: created.token });
      expect(me.body).not.toHaveProperty('notification_secret');
    });

    it('when anonymous with a form body and an empty message endpoint, creates a pulling client', async () => {
      const res = await request(api.app.callback())
        .post('/api/users/')
        .type('form')
        .send({ username: `form-${Date.now()}`, password: 'secret', client: 'true', message_endpoint: '' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ client: true, actor: false, message_endpoint: '' });
    });

    it('when JSON sends a boolean as text, answers 400 as the document types it; a form sends text and is taken', async () => {
      const before = await rowCounts(api.knex);
      const json = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: `text-${Date.now()}`, password: 'secret', actor: 'true' });
      expect(json.status).toBe(400);
      expect(json.body).toEqual({
        detail: 'actor: Not a valid boolean.',
        code: 'invalid_input',
        details: { actor: ['Not a valid boolean.'] },
      });
      expect(await rowCounts(api.knex)).toEqual(before);
      const form = await request(api.app.callback())
        .post('/api/users/')
        .type('form')
        .send({ username: `text-form-${Date.now()}`, password: 'secret', actor: 'true' });
      expect(form.status).toBe(201);
      expect(form.body).toMatchObject({ actor: true });
    });

    it('when the body asks for is_superuser (security 12.1.2), answers 400 and creates nobody', async () => {
      const before = await rowCounts(api.knex);
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: `evil-${Date.now()}`, password: 'x', is_superuser: true, is_staff: true });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'is_superuser: Unknown field.', code: 'invalid_input' });
      expect(await rowCounts(api.knex)).toEqual(before);
    });

    it('when the username is taken, answers 400 and keeps one user', async () => {
      const user = await buildApiUser(api.knex);
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: user.username, password: 'x' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'A user with that username already exists.' });
      expect(await User.query(api.knex).where({ username: user.username }).resultSize()).toBe(1);
    });

    it.each([
      ['a local part of 65 characters', `${'a'.repeat(65)}@example.com`, 'Enter a valid email address.'],
      ['a domain label of 64 characters', `jane@${'d'.repeat(64)}.com`, 'Enter a valid email address.'],
      [
        '255 characters in all',
        `janes@${'d.'.repeat(119)}example.com`,
        'Ensure this field has no more than 254 characters.',
      ],
    ])(
      'when the e-mail address has %s (beyond RFC 5321), answers 400 and creates nobody',
      async (_, email, message) => {
        const before = await rowCounts(api.knex);
        const res = await request(api.app.callback())
          .post('/api/users/')
          .send({ username: `mail-${Date.now()}`, password: 'x', email });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ detail: `email: ${message}`, details: { email: [message] } });
        expect(await rowCounts(api.knex)).toEqual(before);
      },
    );

    it('when the e-mail address is at the RFC limits (64 before the @, 254 in all), creates the user', async () => {
      const email = `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com`;
      expect(email).toHaveLength(254);
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: `limit-${Date.now()}`, password: 'x', email });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ email });
    });

    it('when message_endpoint is not an http(s) URL, answers 400', async () => {
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: `bad-${Date.now()}`, password: 'x', message_endpoint: 'ftp://example.com/' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'message_endpoint: Enter a valid http(s) URL.' });
    });

    it('when the password is missing, answers 400 naming it', async () => {
      const res = await request(api.app.callback())
        .post('/api/users/')
        .send({ username: `nopass-${Date.now()}` });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ detail: 'Missing required field: password' });
    });
  });

  describe('GET /api/users/{id}/ and the caller routes', () => {
    it('when reading oneself, the token is included; /myself/ omits it', async () => {
      const user = await buildApiUser(api.knex);
      const self = await request(api.app.callback())
        .get(`/api/users/${user.id}/`)
        .set('Authorization', basicAuth(user));
      expect(self.status).toBe(200);
      expect(self.body).toMatchObject({ id: user.id, username: user.username, token: user.token });
      const myself = await request(api.app.callback()).get('/api/users/myself/').set('Authorization', tokenAuth(user));
      expect(myself.body).toMatchObject({ id: user.id });
      expect(myself.body).not.toHaveProperty('token');
    });

    it('when unauthenticated, answers 401', async () => {
      const user = await buildApiUser(api.knex);
      const res = await request(api.app.callback()).get(`/api/users/${user.id}/`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Token');
    });

    it('when the user is a stranger, answers 404; when the id is malformed, 400 with the reference text', async () => {
      const user = await buildApiUser(api.knex);
      const stranger = await buildApiUser(api.knex);
      const hidden = await request(api.app.callback())
        .get(`/api/users/${stranger.id}/`)
        .set('Authorization', tokenAuth(user));
      expect(hidden.status).toBe(404);
      expect(hidden.body).toMatchObject({ detail: `User ${stranger.id} not found.` });
      const malformed = await request(api.app.callback())
        .get('/api/users/not-a-uuid/')
        .set('Authorization', tokenAuth(user));
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({
        detail: 'User not-a-uuid not found.',
        code: 'invalid_input',
        details: { id: ['User not-a-uuid not found.'] },
      });
    });

    it('when the user acts in trainings, /trainings/ lists them', async () => {
      const user = await buildApiUser(api.knex);
      const model = await buildGlobalModel(api.knex, user.id);
      const training = await buildTraining(api.knex, user.id, model.id);
      const res = await request(api.app.callback()).get('/api/users/trainings/').set('Authorization', tokenAuth(user));
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        expect.objectContaining({ id: training.id, actor: user.id, state: 'I', locked: false }),
      ]);
    });

    it('when the user belongs to groups, /groups/ lists exactly those', async () => {
      const user = await buildApiUser(api.knex);
      const ids: number[] = [];
      for (const name of ['a', 'b', 'c']) {
        const group = await Group.query(api.knex).insert({ name: `${name}-${user.id}` });
        ids.push(group.id);
        await api.knex('group_memberships').insert({ group_id: group.id, user_id: user.id });
      }
      await api.knex('groups').insert({ name: `other-${user.id}` });
      const res = await request(api.app.callback()).get('/api/users/groups/').set('Authorization', tokenAuth(user));
      expect(idsOf(res.body).map(Number)).toEqual(ids);
    });
  });
});

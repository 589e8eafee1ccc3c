import { createHash } from 'node:crypto';
import request from 'supertest';
import { Group } from '../../src/db/models/group';
import { Session } from '../../src/db/models/session';
import { User } from '../../src/db/models/user';
import { buildApiUser, createTestApi, errorOf, PASSWORD, tokenAuth, type TestApi } from '../fixtures/api-app';
import { logIn, sessionOf, setCookiesOf } from '../fixtures/api-sessions';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('/api/auth/ sessions', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const groupName = (): string => `group-${Date.now()}-${Math.random().toString(36).slice(2)}`;

  describe('POST /api/auth/login/', () => {
    it('when the password is right (JSON), answers the user and sets an HttpOnly session and a readable CSRF cookie', async () => {
      const user = await buildApiUser(api.knex, { firstName: 'Ada' });
      const res = await request(api.app.callback())
        .post('/api/auth/login/')
        .send({ username: user.username, password: PASSWORD });
      const myself = await request(api.app.callback()).get('/api/users/myself/').set('Authorization', tokenAuth(user));
      expect(res).toMatchObject({ status: 200, body: myself.body as unknown });
      expect(res.body).not.toHaveProperty('token');
      const cookies = setCookiesOf(res);
      expect(cookies.sessionid?.attributes).toMatchObject({ httponly: true, samesite: 'lax', path: '/' });
      expect(cookies.csrftoken?.attributes).toMatchObject({ samesite: 'lax', path: '/' });
      expect(cookies.csrftoken?.attributes).not.toHaveProperty('httponly');
      expect(cookies.sessionid?.attributes).not.toHaveProperty('secure');
      // Only the key's hash is stored, with the CSRF token the cookie carries.
      const { key, csrfToken } = sessionOf(res);
      expect(await Session.query(api.knex).where({ userId: user.id })).toEqual([
        expect.objectContaining({ keyHash: sha256(key), csrfToken }),
      ]);
      expect(JSON.stringify(await Session.query(api.knex).where({ userId: user.id }))).not.toContain(key);
      expect((await User.query(api.knex).findById(user.id))?.lastLogin).toBeInstanceOf(Date);
    });

    it('when the form carries csrfmiddlewaretoken (urlencoded or multipart), logs in without refusing the field', async () => {
      const user = await buildApiUser(api.knex);
      const form = await request(api.app.callback())
        .post('/api/auth/login/')
        .type('form')
        .send({ username: user.username, password: PASSWORD, csrfmiddlewaretoken: 'from-an-earlier-page' });
      expect(form.status).toBe(200);
      const multipart = await request(api.app.callback())
        .post('/api/auth/login/')
        .field('username', user.username)
        .field('password', PASSWORD)
        .field('csrfmiddlewaretoken', 'x');
      expect(multipart.status).toBe(200);
      expect(sessionOf(form).key).not.toBe(sessionOf(multipart).key);
    });

    it('when served over https (X-Forwarded-Proto), the cookies are Secure', async () => {
      const user = await buildApiUser(api.knex);
      const res = await request(api.app.callback())
        .post('/api/auth/login/')
        .set('X-Forwarded-Proto', 'https')
        .send({ username: user.username, password: PASSWORD });
      const cookies = setCookiesOf(res);
      expect(cookies.sessionid?.attributes).toHaveProperty('secure', true);
      expect(cookies.csrftoken?.attributes).toHaveProperty('secure', true);
    });

    it('when the password is wrong, the user unknown or inactive, answers 401 JSON and sets no cookie', async () => {
      const user = await buildApiUser(api.knex);
      const inactive = await buildApiUser(api.knex, { isActive: false });
      for (const body of [
        { username: user.username, password: 'wrong' },
        { username: `nobody-${Date.now()}`, password: PASSWORD },
        { username: inactive.username, password: PASSWORD },
      ]) {
        const res = await request(api.app.callback()).post('/api/auth/login/').send(body);
        expect(res).toMatchObject({
          status: 401,
          headers: { 'www-authenticate': 'Token' },
          body: { detail: 'Invalid username/password.', code: 'not_authenticated' },
        });
        expect(res.headers['set-cookie']).toBeUndefined();
      }
    });

    it('when a field is missing or unknown, answers 400 naming it', async () => {
      const missing = await request(api.app.callback()).post('/api/auth/login/').send({ username: 'x' });
      expect(missing).toMatchObject({ status: 400, body: { detail: 'Missing required field: password' } });
      const unknown = await request(api.app.callback())
        .post('/api/auth/login/')
        .send({ username: 'x', password: 'y', remember: true });
      expect(unknown).toMatchObject({ status: 400, body: { detail: 'remember: Unknown field.' } });
    });

    it('when Origin is another site, answers 403 and starts no session', async () => {
      const user = await buildApiUser(api.knex);
      const res = await request(api.app.callback())
        .post('/api/auth/login/')
        .set('Origin', 'https://evil.example')
        .send({ username: user.username, password: PASSWORD });
      expect(res.status).toBe(403);
      expect(errorOf(res.body).detail).toMatch(/^CSRF Failed: Origin checking failed - https:\/\/evil\.example/);
      expect(await Session.query(api.knex).where({ userId: user.id })).toEqual([]);
    });

    it('when the request still carries a session, logs in with a new key and CSRF token and ends the old session', async () => {
      const user = await buildApiUser(api.knex);
      const first = await logIn(api.app, user);
      const res = await request(api.app.callback())
        .post('/api/auth/login/')
        .set('Cookie', first.cookie)
        .send({ username: user.username, password: PASSWORD });
      const second = sessionOf(res);
      expect(second.key).not.toBe(first.key);
      expect(second.csrfToken).not.toBe(first.csrfToken);
      expect(await Session.query(api.knex).findById(sha256(first.key))).toBeUndefined();
      const old = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', first.cookie);
      expect(old).toMatchObject({ status: 401, body: { detail: 'Invalid session; log in again.' } });
      // The old CSRF token does not pass with the new session.
      const stale = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', second.cookie)
        .set('X-CSRFToken', first.csrfToken)
        .send({ name: groupName() });
      expect(stale.status).toBe(403);
    });
  });

  describe('requests made with the session', () => {
    it('when only the cookie is sent, GET /api/users/myself/ answers the user', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const res = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', `sessionid=${session.key}`);
      expect(res).toMatchObject({ status: 200, body: { id: user.id, username: user.username } });
    });

    it('when a POST has no CSRF token, answers 403 naming how to send it and creates nothing', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const name = groupName();
      const res = await request(api.app.callback()).post('/api/groups/').set('Cookie', session.cookie).send({ name });
      expect(res).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
      expect(errorOf(res.body).detail).toBe(
        "CSRF Failed: CSRF token missing. Send the csrftoken cookie's value in the 'X-CSRFToken' header or the " +
          "'csrfmiddlewaretoken' form field.",
      );
      expect(await Group.query(api.knex).where({ name })).toEqual([]);
    });

    it('when X-CSRFToken carries the token, the POST is done; a wrong token is 403', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const wrong = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', `${session.csrfToken.slice(0, -1)}${session.csrfToken.endsWith('A') ? 'B' : 'A'}`)
        .send({ name: groupName() });
      expect(wrong).toMatchObject({
        status: 403,
        body: { detail: "CSRF Failed: CSRF token from the 'X-CSRFToken' HTTP header incorrect." },
      });
      const name = groupName();
      const res = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', session.csrfToken)
        .send({ name });
      expect(res).toMatchObject({ status: 201, body: { name } });
    });

    it('when the csrfmiddlewaretoken form field carries the token (urlencoded or multipart), the POST is done', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const urlencoded = groupName();
      const form = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', session.cookie)
        .type('form')
        .send({ name: urlencoded, csrfmiddlewaretoken: session.csrfToken });
      expect(form).toMatchObject({ status: 201, body: { name: urlencoded } });
      const multipartName = groupName();
      const multipart = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', session.cookie)
        .field('name', multipartName)
        .field('csrfmiddlewaretoken', session.csrfToken);
      expect(multipart).toMatchObject({ status: 201, body: { name: multipartName } });
      const wrong = await request(api.app.callback())
        .post('/api/groups/')
        .set('Cookie', session.cookie)
        .type('form')
        .send({ name: groupName(), csrfmiddlewaretoken: 'not-the-token' });
      expect(wrong).toMatchObject({
        status: 403,
        body: { detail: "CSRF Failed: CSRF token from the 'csrfmiddlewaretoken' form field incorrect." },
      });
    });

    it('when Origin is another site (or opaque), answers 403 even with the token; its own origin passes', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      for (const origin of ['http://evil.example', 'http://roundhouse.test:8080', 'https://roundhouse.test', 'null']) {
        const res = await request(api.app.callback())
          .post('/api/groups/')
          .set('Host', 'roundhouse.test')
          .set('Origin', origin)
          .set('Cookie', session.cookie)
          .set('X-CSRFToken', session.csrfToken)
          .send({ name: groupName() });
        expect([origin, res.status, errorOf(res.body).detail]).toEqual([
          origin,
          403,
          `CSRF Failed: Origin checking failed - ${origin} does not match http://roundhouse.test.`,
        ]);
      }
      const same = await request(api.app.callback())
        .post('/api/groups/')
        .set('Host', 'roundhouse.test')
        .set('Origin', 'http://roundhouse.test')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', session.csrfToken)
        .send({ name: groupName() });
      expect(same.status).toBe(201);
      // Behind a proxy the origin is the one the client used: scheme and host from the forwarded headers.
      const proxied = await request(api.app.callback())
        .post('/api/groups/')
        .set('X-Forwarded-Proto', 'https')
        .set('X-Forwarded-Host', 'fl.example.org')
        .set('Origin', 'https://fl.example.org')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', session.csrfToken)
        .send({ name: groupName() });
      expect(proxied.status).toBe(201);
    });

    it('when Authorization is present, it wins: no CSRF token or origin check, and the cookies are ignored', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const token = await request(api.app.callback())
        .post('/api/groups/')
        .set('Authorization', tokenAuth(user))
        .set('Origin', 'https://evil.example')
        .set('Cookie', session.cookie)
        .send({ name: groupName() });
      expect(token.status).toBe(201);
      const wrongToken = await request(api.app.callback())
        .get('/api/users/myself/')
        .set('Authorization', `Token ${'0'.repeat(40)}`)
        .set('Cookie', session.cookie);
      expect(wrongToken).toMatchObject({ status: 401, body: { detail: 'Invalid token.' } });
    });

    it('when the session idled or reached its maximum age, answers 401, deletes it and clears the cookies', async () => {
      const user = await buildApiUser(api.knex);
      const idle = await logIn(api.app, user);
      const old = await logIn(api.app, user);
      await Session.query(api.knex)
        .findById(sha256(idle.key))
        .patch({ lastUsedAt: new Date(Date.now() - 9 * 3600_000) });
      // Used a minute ago, but logged in eight days ago.
      await Session.query(api.knex)
        .findById(sha256(old.key))
        .patch({ createdAt: new Date(Date.now() - 8 * 86400_000), lastUsedAt: new Date(Date.now() - 60_000) });
      for (const session of [idle, old]) {
        const res = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', session.cookie);
        expect(res).toMatchObject({
          status: 401,
          headers: { 'www-authenticate': 'Token' },
          body: { detail: 'Session expired; log in again.', code: 'not_authenticated' },
        });
        expect(setCookiesOf(res).sessionid).toMatchObject({
          value: '',
          attributes: { expires: expect.stringContaining('1970') as string },
        });
        expect(await Session.query(api.knex).findById(sha256(session.key))).toBeUndefined();
      }
    });

    it('when the session is used after a while, its last use is recorded, so it stays alive', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const hoursAgo = new Date(Date.now() - 7 * 3600_000);
      await Session.query(api.knex).findById(sha256(session.key)).patch({ lastUsedAt: hoursAgo });
      const res = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', session.cookie);
      expect(res.status).toBe(200);
      const row = await Session.query(api.knex).findById(sha256(session.key));
      expect(row?.lastUsedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    });

    it('when the user became inactive, the session is refused', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      await User.query(api.knex).findById(user.id).patch({ isActive: false });
      const res = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', session.cookie);
      expect(res).toMatchObject({ status: 401, body: { detail: 'User inactive or deleted.' } });
    });

    it('when the cookie is not a key this server makes, answers 401 without a lookup error', async () => {
      const res = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', "sessionid=%00'--");
      expect(res).toMatchObject({ status: 401, body: { detail: 'Invalid session; log in again.' } });
    });
  });

  describe('POST /api/auth/logout/', () => {
    it('when made with the session and its token, deletes it, clears both cookies, and the cookie is refused after', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const res = await request(api.app.callback())
        .post('/api/auth/logout/')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', session.csrfToken);
      expect(res).toMatchObject({ status: 200, body: { detail: 'Logged out.' } });
      const cookies = setCookiesOf(res);
      for (const name of ['sessionid', 'csrftoken']) {
        expect(cookies[name]).toMatchObject({
          value: '',
          attributes: { expires: expect.stringContaining('1970') as string },
        });
      }
      expect(await Session.query(api.knex).findById(sha256(session.key))).toBeUndefined();
      const after = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', session.cookie);
      expect(after).toMatchObject({ status: 401, body: { detail: 'Invalid session; log in again.' } });
    });

    it('when the CSRF token is missing, answers 403 and the session lives on', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const res = await request(api.app.callback()).post('/api/auth/logout/').set('Cookie', session.cookie);
      expect(res.status).toBe(403);
      const after = await request(api.app.callback()).get('/api/users/myself/').set('Cookie', session.cookie);
      expect(after.status).toBe(200);
    });
  });
});

import { MockActivityEnvironment } from '@temporalio/testing';
import request from 'supertest';
import { z } from 'zod';
import { createNotificationActivities } from '../../src/activities/notification-activities';
import { User } from '../../src/db/models/user';
import { createLogger } from '../../src/logger';
import { NOTIFICATION_HEADERS, verifyNotification } from '../../src/notifications/signature';
import { buildApiUser, createTestApi, parseBody, type TestApi } from '../fixtures/api-app';
import { logIn } from '../fixtures/api-sessions';
import { buildGlobalModel, buildTraining } from '../fixtures/factories';
import { ClientReceiver, type ReceivedPush } from '../support/fl-clients';

const registered = z.object({
  id: z.uuid(),
  token: z.string().regex(/^[0-9a-f]{40}$/),
  notification_secret: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Whether a push's signature checks out with `secret`. */
function signedWith(push: ReceivedPush | undefined, secret: string): boolean {
  const header = (name: string): string => String(push?.headers[name.toLowerCase()]);
  return verifyNotification(
    secret,
    header(NOTIFICATION_HEADERS.timestamp),
    push?.body ?? '',
    header(NOTIFICATION_HEADERS.signature),
  );
}

describe('/api/auth/ token and notification secret', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  async function register(fields: Record<string, unknown> = {}): Promise<z.output<typeof registered>> {
    const res = await request(api.app.callback())
      .post('/api/users/')
      .send({ username: `rotating-${Date.now()}-${Math.random()}`, password: 'pw', ...fields });
    expect(res.status).toBe(201);
    return parseBody(registered, res.body);
  }

  it('when a user registers, the answer has the token and the notification secret; later reads show no secret', async () => {
    const user = await register();
    expect(user.notification_secret).not.toContain(user.token);
    const auth = `Token ${user.token}`;
    const myself = await request(api.app.callback()).get('/api/users/myself/').set('Authorization', auth);
    expect(myself.status).toBe(200);
    expect(myself.body).not.toHaveProperty('token');
    expect(myself.body).not.toHaveProperty('notification_secret');
    const byId = await request(api.app.callback()).get(`/api/users/${user.id}/`).set('Authorization', auth);
    expect(byId.body).toMatchObject({ token: user.token });
    expect(byId.body).not.toHaveProperty('notification_secret');
    const stored = await User.query(api.knex).findById(user.id);
    expect(stored?.notificationSecret).toBe(user.notification_secret);
  });

  describe('POST /api/auth/token/', () => {
    it('when called with the token, answers a new one; the old one is refused at once and the new one works', async () => {
      const user = await register();
      const res = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Authorization', `Token ${user.token}`);
      const { token } = parseBody(z.object({ token: z.string().regex(/^[0-9a-f]{40}$/) }), res.body);
      expect(res.status).toBe(200);
      expect(token).not.toBe(user.token);
      const old = await request(api.app.callback())
        .get('/api/users/myself/')
        .set('Authorization', `Token ${user.token}`);
      expect(old).toMatchObject({ status: 401, body: { detail: 'Invalid token.' } });
      const fresh = await request(api.app.callback()).get('/api/users/myself/').set('Authorization', `Token ${token}`);
      expect(fresh).toMatchObject({ status: 200, body: { id: user.id } });
    });

    it('when called with a session, needs the CSRF token: refused without, done with the header or a form field', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const refused = await request(api.app.callback()).post('/api/auth/token/').set('Cookie', session.cookie);
      expect(refused.status).toBe(403);
      expect((await User.query(api.knex).findById(user.id))?.token).toBe(user.token);
      const tokens = new Set<string>([user.token]);
      const withHeader = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Cookie', session.cookie)
        .set('X-CSRFToken', session.csrfToken);
      // The route reads no body of its own: the form is parsed for the token field alone.
      const withForm = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Cookie', session.cookie)
        .type('form')
        .send({ csrfmiddlewaretoken: session.csrfToken });
      const withMultipart = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Cookie', session.cookie)
        .field('csrfmiddlewaretoken', session.csrfToken);
      for (const res of [withHeader, withForm, withMultipart]) {
        expect(res.status).toBe(200);
        tokens.add(parseBody(z.object({ token: z.string() }), res.body).token);
      }
      expect(tokens.size).toBe(4);
      expect((await User.query(api.knex).findById(user.id))?.token).toBe(
        parseBody(z.object({ token: z.string() }), withMultipart.body).token,
      );
    });

    it('when the form body beyond the token field is larger than the body limit, answers 413', async () => {
      const user = await buildApiUser(api.knex);
      const session = await logIn(api.app, user);
      const res = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Cookie', session.cookie)
        .type('form')
        .send({ csrfmiddlewaretoken: session.csrfToken, padding: 'x'.repeat(100_000) });
      expect(res).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    });
  });

  describe('pushes', () => {
    const receivers: ClientReceiver[] = [];

    afterAll(async () => {
      await Promise.all(receivers.map((receiver) => receiver.close()));
    });

    it('when the token is rotated, pushes still verify with the notification secret; a new secret signs later ones', async () => {
      const receiver = new ClientReceiver(() => Promise.resolve());
      receivers.push(receiver);
      const user = await register({ message_endpoint: await receiver.listen() });
      const model = await buildGlobalModel(api.knex, user.id);
      const training = await buildTraining(api.knex, user.id, model.id);
      const { sendNotifications } = createNotificationActivities({
        knex: api.knex,
        logger: createLogger('error'),
        delivery: { timeoutMs: 2_000, attempts: 1, backoffMs: 0, concurrency: 1, allowPrivateAddresses: true },
      });
      const push = (key: string): Promise<unknown> =>
        new MockActivityEnvironment().run(sendNotifications, {
          trainingId: training.id,
          key,
          type: 'TRAINING_START' as const,
          receivers: [user.id],
          body: { global_model_uuid: model.id },
        });

      const rotated = await request(api.app.callback())
        .post('/api/auth/token/')
        .set('Authorization', `Token ${user.token}`);
      const { token } = parseBody(z.object({ token: z.string() }), rotated.body);
      await push('after-token-rotation');
      expect(receiver.raw).toHaveLength(1);
      expect(signedWith(receiver.raw[0], user.notification_secret)).toBe(true);
      expect(signedWith(receiver.raw[0], user.token)).toBe(false);
      expect(signedWith(receiver.raw[0], token)).toBe(false);

      const res = await request(api.app.callback())
        .post('/api/auth/notification-secret/')
        .set('Authorization', `Token ${token}`);
      expect(res.status).toBe(200);
      const secret = parseBody(
        z.object({ notification_secret: z.string().regex(/^[0-9a-f]{64}$/) }),
        res.body,
      ).notification_secret;
      expect(secret).not.toBe(user.notification_secret);
      await push('after-secret-rotation');
      expect(receiver.raw).toHaveLength(2);
      expect(signedWith(receiver.raw[1], secret)).toBe(true);
      expect(signedWith(receiver.raw[1], user.notification_secret)).toBe(false);
    });
  });
});

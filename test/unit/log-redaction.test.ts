import Koa from 'koa';
import request from 'supertest';
import { createLogger, type Logger } from '../../src/logger';
import { captureLog } from '../support/log-capture';

const SECRETS = {
  password: 'hunter2-password',
  token: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
  session: 'session-0123456789',
  signature: 'sha256=0123456789abcdef',
  cookie: 'sid=cookie-0123456789',
  csrf: 'csrf-0123456789',
  notificationSecret: 'feedc0de'.repeat(8),
};

function expectNoSecret(text: string): void {
  for (const secret of Object.values(SECRETS)) {
    expect(text).not.toContain(secret);
  }
}

describe('log redaction', () => {
  it('when secrets are fields, nested fields, header values or child fields, writes [redacted] for each', () => {
    const log = captureLog();
    const logger = createLogger('info', {}, log.destination);
    logger.info('login', { username: 'ada', password: SECRETS.password, token: SECRETS.token });
    logger.info('user', {
      user: {
        id: 'u1',
        token: SECRETS.token,
        passwordHash: SECRETS.password,
        notificationSecret: SECRETS.notificationSecret,
      },
    });
    logger.info('push', {
      request: {
        headers: { 'X-Roundhouse-Signature': SECRETS.signature, Authorization: `Token ${SECRETS.token}` },
      },
    });
    logger.info('incoming', {
      ctx: { req: { headers: { authorization: `Bearer ${SECRETS.token}`, cookie: SECRETS.cookie } } },
      sessionId: SECRETS.session,
      session_id: SECRETS.session,
      signature: SECRETS.signature,
      headers: { 'x-csrftoken': SECRETS.csrf },
      body: { csrfmiddlewaretoken: SECRETS.csrf, notification_secret: SECRETS.notificationSecret },
    });
    logger.child({ token: SECRETS.token, requestId: 'r-1' }).info('child');
    expectNoSecret(log.text());
    const lines = log.lines();
    expect(lines[0]).toMatchObject({ username: 'ada', password: '[redacted]', token: '[redacted]' });
    expect(lines[1]).toMatchObject({
      user: { id: 'u1', token: '[redacted]', passwordHash: '[redacted]', notificationSecret: '[redacted]' },
    });
    expect(lines[2]).toMatchObject({
      request: { headers: { 'X-Roundhouse-Signature': '[redacted]', Authorization: '[redacted]' } },
    });
    expect(lines[3]).toMatchObject({
      ctx: { req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } } },
      sessionId: '[redacted]',
      session_id: '[redacted]',
      signature: '[redacted]',
      headers: { 'x-csrftoken': '[redacted]' },
      body: { csrfmiddlewaretoken: '[redacted]', notification_secret: '[redacted]' },
    });
    expect(lines[4]).toMatchObject({ token: '[redacted]', requestId: 'r-1' });
  });

  it('when a secret sits deep down or in a class instance, redacts it; deeper than six levels, writes no object', () => {
    const log = captureLog();
    class Account {
      constructor(
        readonly id: string,
        readonly token: string,
      ) {}
    }
    class Row {
      toJSON() {
        return { id: 'r1', password_hash: SECRETS.password };
      }
    }
    const deep = { a: { b: { c: { d: { token: SECRETS.token, kept: 1 } } } } };
    createLogger('info', {}, log.destination).info('shapes', {
      deep,
      account: new Account('a1', SECRETS.token),
      row: new Row(),
      list: [{ signature: SECRETS.signature }],
      tooDeep: { a: { b: { c: { d: { e: { f: { cookie: SECRETS.cookie } } } } } } },
      when: new Date(0),
      absent: { token: undefined },
    });
    expectNoSecret(log.text());
    expect(log.lines()[0]).toMatchObject({
      deep: { a: { b: { c: { d: { token: '[redacted]', kept: 1 } } } } },
      account: { id: 'a1', token: '[redacted]' },
      row: { id: 'r1', password_hash: '[redacted]' },
      list: [{ signature: '[redacted]' }],
      tooDeep: { a: { b: { c: { d: { e: { f: '[too deep]' } } } } } },
      when: '1970-01-01T00:00:00.000Z',
      absent: {},
    });
  });

  it('when an error carries the request that failed, logs the error without the request or its headers', () => {
    const log = captureLog();
    const err = Object.assign(new Error('Request failed with status code 500'), {
      config: { headers: { Authorization: `Token ${SECRETS.token}` } },
      request: { headers: { cookie: SECRETS.cookie } },
    });
    createLogger('info', {}, log.destination).error('push failed', {
      error: new Error('wrapped', { cause: err }),
      details: { attempts: [err] },
    });
    expectNoSecret(log.text());
    expect(log.lines()[0]).toMatchObject({
      error: { message: 'wrapped', cause: { message: 'Request failed with status code 500' } },
      details: { attempts: [{ name: 'Error', message: 'Request failed with status code 500' }] },
    });
  });

  it("when Koa's context, request or Node's request is logged, writes only method and URL", async () => {
    const log = captureLog();
    const logger: Logger = createLogger('info', {}, log.destination);
    const app = new Koa();
    app.use((ctx) => {
      logger.info('dump', { ctx, request: ctx.request, req: ctx.req, nested: { response: ctx.response } });
      ctx.body = 'ok';
    });
    await request(app.callback())
      .get('/api/models/?x=1')
      .set('Authorization', `Token ${SECRETS.token}`)
      .set('Cookie', SECRETS.cookie)
      .expect(200);
    expectNoSecret(log.text());
    const request_ = { method: 'GET', url: '/api/models/?x=1' };
    expect(log.lines()[0]).toMatchObject({
      ctx: request_,
      request: request_,
      req: request_,
      nested: { response: request_ },
    });
  });
});

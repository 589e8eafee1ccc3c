import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import request from 'supertest';
import { errorHandler } from '../../src/api/middleware/error-handler';
import { requestId } from '../../src/api/middleware/request-id';
import { createRouter } from '../../src/api/routing/router';
import { AppError, invalidInput, notFound, unavailable } from '../../src/errors';
import type { Logger } from '../../src/logger';

function recordingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  const logger: Logger & { errors: unknown[] } = {
    errors,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_message, fields) => errors.push(fields?.error),
    child: () => logger,
  };
  return logger;
}

function appThrowing(logger: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(logger));
  app.use(koaBody({ jsonLimit: '10b' }));
  const router = createRouter();
  router.get('/missing', () => {
    throw notFound('Training 42 not found.');
  });
  router.get('/invalid', () => {
    throw invalidInput('round: expected an integer', { round: ['Not a valid integer.'] });
  });
  router.get('/busy', () => {
    throw unavailable('The training cannot take an upload now.', 3, { reason: 'run_unresponsive' });
  });
  router.get('/boom', () => {
    throw new Error('secret database password in this message');
  });
  router.post('/echo', (ctx) => {
    ctx.body = ctx.request.body;
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

describe('errorHandler', () => {
  it('when an AppError is thrown, answers its status with detail and code', async () => {
    const app = appThrowing(recordingLogger());
    await expect(request(app.callback()).get('/missing')).resolves.toMatchObject({
      status: 404,
      body: { detail: 'Training 42 not found.', code: 'not_found' },
    });
    await expect(request(app.callback()).get('/invalid')).resolves.toMatchObject({
      status: 400,
      body: {
        detail: 'round: expected an integer',
        code: 'invalid_input',
        details: { round: ['Not a valid integer.'] },
      },
    });
    const busy = await request(app.callback()).get('/busy');
    expect(busy).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    expect(busy.headers['retry-after']).toBe('3');
  });

  it('when an unexpected error is thrown, answers a generic 500 with the request id and logs the real error', async () => {
    const logger = recordingLogger();
    const response = await request(appThrowing(logger).callback()).get('/boom').set('X-Request-Id', 'req-123');
    expect(response).toMatchObject({
      status: 500,
      body: { detail: 'Internal server error.', code: 'internal_error', request_id: 'req-123' },
    });
    expect(JSON.stringify(response.body)).not.toContain('secret');
    expect(logger.errors).toEqual([expect.objectContaining({ message: 'secret database password in this message' })]);
  });

  it('when the body is malformed JSON or too large, answers a 4xx JSON error, never 500', async () => {
    const app = appThrowing(recordingLogger());
    const malformed = await request(app.callback()).post('/echo').set('Content-Type', 'application/json').send('{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'invalid_input' });
    const large = await request(app.callback())
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ long: 'x'.repeat(100) }));
    expect(large).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
  });

  it('when no route matches or the method is not allowed, answers JSON 404 and 405', async () => {
    const app = appThrowing(recordingLogger());
    await expect(request(app.callback()).get('/nowhere')).resolves.toMatchObject({
      status: 404,
      body: { detail: 'Not found.', code: 'not_found' },
    });
    await expect(request(app.callback()).delete('/missing')).resolves.toMatchObject({
      status: 405,
      body: { detail: 'Method "DELETE" not allowed.', code: 'method_not_allowed' },
    });
  });

  it('when a method Node knows but no route serves comes (TRACE, QUERY), answers JSON 405 with Allow, never 501', async () => {
    const handle = appThrowing(recordingLogger()).callback();
    const server = http.createServer((req, res) => {
      void handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const send = (method: string, path: string) =>
      new Promise<{ status: number; allow: string | undefined; type: string | undefined; body: unknown }>(
        (resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                allow: res.headers.allow,
                type: res.headers['content-type'],
                body: JSON.parse(text) as unknown,
              }),
            );
          });
          req.on('error', reject);
          req.end();
        },
      );
    try {
      for (const method of ['TRACE', 'QUERY', 'PROPFIND']) {
        const res = await send(method, '/missing');
        expect(res).toMatchObject({
          status: 405,
          allow: 'HEAD, GET',
          body: { detail: `Method "${method}" not allowed.`, code: 'method_not_allowed' },
        });
        expect(res.type).toMatch(/^application\/json/);
      }
      await expect(send('TRACE', '/nowhere')).resolves.toMatchObject({ status: 404, body: { code: 'not_found' } });
    } finally {
      server.close();
    }
  });

  it('when an AppError crosses realms, it is still recognised by its name and code', async () => {
    const foreign = Object.assign(new Error('Gone.'), {
      name: 'AppError',
      code: 'not_found',
      status: 404,
      headers: {},
    });
    const app = new Koa();
    app.silent = true;
    app.use(errorHandler(recordingLogger()));
    app.use(() => {
      throw foreign;
    });
    await expect(request(app.callback()).get('/')).resolves.toMatchObject({
      status: 404,
      body: { detail: 'Gone.', code: 'not_found' },
    });
    expect(new AppError({ code: 'conflict', status: 409, message: 'x' })).toMatchObject({ status: 409 });
  });
});

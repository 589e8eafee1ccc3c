import Router from '@koa/router';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import request from 'supertest';
import { errorHandler } from '../../src/api/middleware/error-handler';
import { requestId } from '../../src/api/middleware/request-id';
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
  const router = new Router();
  router.get('/missing', () => {
    throw notFound('Training 42 not found.');
  });
  router.get('/invalid', () => {
    throw invalidInput('round: expected an integer', { round: ['Not a valid integer.'] });
  });
  router.get('/busy', () => {
    throw unavailable('The training cannot take an upload now.', 3);
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

import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../logger';
import { errorHandler } from './middleware/error-handler';
import { requestId } from './middleware/request-id';
import type { ReadinessCheck } from './readiness';
import { healthRoutes } from './routes/health/routes';

/** Everything the API needs, built by the entry point (or a test) and passed in. */
export interface AppDeps {
  logger: Logger;
  readinessChecks: Record<string, ReadinessCheck>;
}

/** Builds the Koa app without listening, so tests can drive `app.callback()` directly. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(deps.logger));
  const api = new Router({ prefix: '/api' });
  const health = healthRoutes(deps.readinessChecks);
  api.use(health.routes(), health.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}

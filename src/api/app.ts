import Koa from 'koa';
import type { Knex } from 'knex';
import type { AuthSettings } from '../auth/auth-settings';
import type { InferencePool } from '../inference/pool';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import { createAuthenticator } from './auth/authenticator';
import { dashboardAssetRoutes } from './dashboard/asset-routes';
import type { ChangeFeed } from './cache/change-feed';
import { seeOwnChanges } from './cache/see-own-changes';
import { accessLog } from './middleware/access-log';
import { errorHandler } from './middleware/error-handler';
import { httpMetrics, metricsRoute } from './middleware/http-metrics';
import { requestId } from './middleware/request-id';
import type { ReadinessCheck } from './readiness';
import type { DashboardSettings } from './services';
import { apiRoutes } from './routes';
import { healthRoutes } from './routes/health/routes';
import { jobServerRoutes } from './routes/job-server';
import { plusAsSpace } from './routing/plus-as-space';
import type { BodyLimits } from './routing/body';
import { createRouter } from './routing/router';
import { RouteRegistry } from './routing/route-spec';
import type { TaskWakeups } from './task-waker';
import type { TrainingOrchestrator } from './training-orchestrator';
import { InferenceModels } from './use-cases/inference-model';

/** Everything the API needs, built by the entry point (or a test) and passed in. */
export interface AppDeps {
  logger: Logger;
  readinessChecks: Record<string, ReadinessCheck>;
  knex: Knex;
  blobs: BlobStore;
  limits: BodyLimits;
  orchestrator: TrainingOrchestrator;
  /** Runs inference off the event loop. */
  inference: InferencePool;
  /** Wakes long-polling clients (`TaskWaker`). */
  tasks: TaskWakeups;
  /**
   * Row changes, for the caches of tokens, sessions and the models inference runs (`ChangeFeed`); without it every
   * request reads the database.
   */
  changes?: ChangeFeed;
  /** Session lifetimes and failed-login limits. */
  auth: AuthSettings;
  /** Serves `GET /api/dummy/` (ROUNDHOUSE_DEMO_DATA); off when absent. */
  demoData?: boolean;
  /** The dashboard at `/ui/` (`/` redirects there). */
  dashboard: DashboardSettings;
  /** Also serves `GET /metrics` here (ROUNDHOUSE_METRICS_ON_API); by default only the metrics port does. */
  metricsOnApi?: boolean;
  /** Aborts when the server begins to stop (`startApiServer`); never without it. */
  stopping?: AbortSignal;
}

/** Builds the Koa app without listening, so tests can drive `app.callback()` directly. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  // The client address is the last X-Forwarded-For entry, the one the nearest proxy added: the entries before it are
  // whatever the client sent, and the failed-login limit per address must not be escaped by forging them.
  app.maxIpsCount = 1;
  app.silent = true;
  app.use(requestId());
  app.use(httpMetrics());
  app.use(accessLog(deps.logger));
  app.use(errorHandler(deps.logger));
  if (deps.changes) {
    app.use(seeOwnChanges(deps.changes));
  }
  if (deps.metricsOnApi === true) {
    app.use(metricsRoute());
  }
  const api = createRouter('/api');
  const health = healthRoutes(deps.readinessChecks);
  api.use(health.routes(), health.allowedMethods());
  const knex = deps.knex;
  if (deps.demoData) {
    deps.logger.warn('GET /api/dummy/ is on (ROUNDHOUSE_DEMO_DATA): anyone may create demo data and get its token');
  }
  const routing = {
    registry: new RouteRegistry(),
    limits: deps.limits,
    authenticator: createAuthenticator(knex, deps.auth, deps.changes),
  };
  const services = {
    knex,
    blobs: deps.blobs,
    logger: deps.logger,
    orchestrator: deps.orchestrator,
    inference: deps.inference,
    inferenceModels: new InferenceModels(knex, deps.changes),
    tasks: deps.tasks,
    dashboard: deps.dashboard,
    stopping: deps.stopping ?? new AbortController().signal,
  };
  const resources = apiRoutes({ ...routing, router: createRouter() }, services, { demoData: deps.demoData ?? false });
  api.use(resources.routes(), resources.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  // The seed-004 job-server protocol lives at the root, beside /api, and appears in the same OpenAPI document.
  const root = jobServerRoutes({ ...routing, router: createRouter() }, services);
  const dashboard = dashboardAssetRoutes(deps.dashboard.assetsDir);
  app.use(dashboard.routes());
  app.use(dashboard.allowedMethods());
  app.use(plusAsSpace('/actions/'));
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}

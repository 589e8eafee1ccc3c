import type Router from '@koa/router';
import type { RouteContext } from '../routing/route';
import type { ApiServices } from '../services';
import { authRoutes } from './auth/routes';
import { dashboardRoutes } from './dashboard/routes';
import { datasetPointRoutes } from './datasets/point-routes';
import { datasetRoutes } from './datasets/routes';
import { dummyRoutes } from './dummy/routes';
import { groupMemberRoutes } from './groups/member-routes';
import { groupRoutes } from './groups/routes';
import { inferenceRoutes } from './inference/routes';
import { modelMetadataRoutes } from './models/metadata-routes';
import { modelMetricRoutes } from './models/metric-routes';
import { modelUploadRoutes } from './models/upload-routes';
import { modelRoutes } from './models/routes';
import { schemaRoutes } from './schema/routes';
import { taskRoutes } from './tasks/routes';
import { trainingClientRoutes } from './trainings/client-routes';
import { trainingRoundRoutes } from './trainings/round-routes';
import { trainingRoutes } from './trainings/routes';
import { userRoutes } from './users/routes';

/** Routes a deployment switches on. */
export interface OptionalRoutes {
  /** `GET /api/dummy/`: absent (404, and not in the OpenAPI document) unless true. */
  readonly demoData: boolean;
}

/** Mounts every resource's routes, and the optional ones enabled, on `rc.router` and returns it. */
export function apiRoutes(rc: RouteContext, services: ApiServices, optional: OptionalRoutes): Router {
  authRoutes(rc, services);
  userRoutes(rc, services);
  taskRoutes(rc, services);
  groupRoutes(rc, services);
  groupMemberRoutes(rc, services);
  modelRoutes(rc, services);
  modelMetadataRoutes(rc, services);
  modelMetricRoutes(rc, services);
  modelUploadRoutes(rc, services);
  trainingRoutes(rc, services);
  trainingClientRoutes(rc, services);
  trainingRoundRoutes(rc, services);
  inferenceRoutes(rc, services);
  datasetRoutes(rc, services);
  datasetPointRoutes(rc, services);
  dashboardRoutes(rc, services);
  if (optional.demoData) {
    dummyRoutes(rc, services);
  }
  schemaRoutes(rc);
  return rc.router;
}

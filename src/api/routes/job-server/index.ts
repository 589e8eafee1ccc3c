import type Router from '@koa/router';
import type { RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { jobServerDatasetRoutes } from './dataset-routes';
import { jobServerGroupRoutes } from './group-routes';
import { jobServerJobRoutes } from './job-routes';
import { jobServerSessionRoutes } from './session-routes';

/**
 * The seed-004 job-server protocol at the server's root (docs/compatibility.md#the-seed-004-job-server-client): thin
 * adapters onto the REST API's use cases. Every `/actions/...` path takes a POST only, with the session and its CSRF
 * token, so a link on another site cannot act for a user; `/env.json/` and `/ok.json` also answer a GET.
 */
export function jobServerRoutes(rc: RouteContext, services: ApiServices): Router {
  jobServerSessionRoutes(rc);
  jobServerGroupRoutes(rc, services);
  jobServerJobRoutes(rc, services);
  jobServerDatasetRoutes(rc, services);
  return rc.router;
}

import { requestLogger } from '../../middleware/access-log';
import { anonymousRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { createDemoData, DEMO_PASSWORD, DEMO_USERNAME } from '../../use-cases/create-demo-data';
import { dummyDataResponse, type DummyDataResponse } from './schemas';

/**
 * `GET /api/dummy/` (E37): demo data for anyone, mounted only when the deployment enables it (ROUNDHOUSE_DEMO_DATA),
 * as the reference serves it only in DEBUG. Anonymous, as there: any Authorization header is ignored.
 */
export function dummyRoutes(rc: RouteContext, services: ApiServices): void {
  anonymousRoute(
    rc,
    {
      method: 'get',
      path: '/dummy',
      tag: 'dummy',
      summary: 'Creates demo data: a completed training with metrics, and the token of its actor `dummy-user`.',
      description:
        'Served only when ROUNDHOUSE_DEMO_DATA=true. Each call creates a new model, 5 clients and a training; ' +
        '`dummy-user` (password `secret`) is created once and reused.',
      responses: [{ status: 200, description: 'The demo data created.', schema: dummyDataResponse }],
    },
    async (ctx) => {
      const data = await createDemoData({ ...services, logger: requestLogger(ctx, services.logger) });
      ctx.body = {
        message: 'Created Dummy Data in Metrics Database!',
        training_uuid: data.trainingId,
        user_uuid: data.user.id,
        user_credentials: { username: DEMO_USERNAME, password: DEMO_PASSWORD, token: data.user.token },
        participants: data.participantIds,
      } satisfies DummyDataResponse;
    },
  );
}

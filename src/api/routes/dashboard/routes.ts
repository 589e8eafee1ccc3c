import { z } from 'zod';
import { AGGREGATION_METHODS } from '../../../aggregation/strategies/registry';
import { pollSignal } from '../../routing/poll-signal';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { LIVE_POLL_MS, listTrainingSummaries, liveTraining } from '../../use-cases/dashboard-trainings';
import { errorSchema } from '../common-schemas';
import { STRATEGY_PARAMETERS, trainingParams, UNCERTAINTY_METHODS } from '../trainings/schemas';
import { liveQuery, MAX_LIVE_WAIT_SECONDS, trainingChoices, trainingLive, trainingSummary } from './schemas';

const TAG = 'dashboard';

/** `/api/dashboard/`: what the dashboard at `/ui/` reads, shaped for its pages (beyond the reference). */
export function dashboardRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex, dashboard, stopping } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/dashboard/trainings',
      tag: TAG,
      summary: "The caller's trainings, as actor or participant, with their round and the server's last figures.",
      responses: [{ status: 200, description: 'The trainings, oldest first.', schema: z.array(trainingSummary) }],
    },
    async (ctx, { user }) => {
      ctx.body = await listTrainingSummaries(knex, dashboard, user);
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/dashboard/choices',
      tag: TAG,
      summary: "The aggregation and uncertainty methods a training may name, and each method's strategy parameters.",
      responses: [{ status: 200, description: 'The choices.', schema: trainingChoices }],
    },
    async (ctx) => {
      ctx.body = {
        aggregation_methods: [...AGGREGATION_METHODS],
        uncertainty_methods: [...UNCERTAINTY_METHODS],
        strategy_parameters: STRATEGY_PARAMETERS,
      };
      await Promise.resolve();
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/dashboard/trainings/:id',
      tag: TAG,
      summary: 'One training with its rounds, clients and model versions; long-polls for a change with `since`.',
      description:
        'The answer has a `version`. With `since=<version>` and `wait=S` (at most ' +
        `${MAX_LIVE_WAIT_SECONDS}), the answer comes once the training differs from that version (read every ` +
        `${LIVE_POLL_MS} ms), or after S seconds unchanged. The actor sees every client; a participant sees the ` +
        'aggregates and its own entries, as in the rounds view.',
      params: trainingParams,
      query: liveQuery,
      responses: [
        { status: 200, description: 'The training.', schema: trainingLive },
        { status: 400, description: '`since` or `wait` is malformed.', schema: errorSchema },
        { status: 404, description: 'No such training, or the caller has no part in it.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params, query }) => {
      const poll = pollSignal(ctx.res, stopping);
      try {
        const waitMs = query.since === undefined ? 0 : (query.wait ?? 0) * 1000;
        ctx.body = await liveTraining(knex, dashboard, user, params.id, {
          ...(query.since === undefined ? {} : { since: query.since }),
          waitMs,
          signal: poll.signal,
        });
      } finally {
        poll.release();
      }
    },
  );
}

import { z } from 'zod';
import type { RoundRange } from '../../../db/queries/rounds';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { declineTask } from '../../use-cases/decline-task';
import { findRoundView, listRoundViews } from '../../use-cases/round-view';
import { errorSchema, INT32_MAX } from '../common-schemas';
import { presentTask } from '../tasks/presenters';
import {
  declineBody,
  declineResponse,
  MAX_ROUNDS_PER_PAGE,
  roundParams,
  roundResponse,
  roundsQuery,
} from './round-schemas';
import { TRAINING_MISSING, TRAININGS_TAG } from './routes';
import { trainingParams } from './schemas';

const VIEWS =
  'The actor and the model owner see every client; a participant sees the aggregates and its own entries, not ' +
  "other clients' identities or values.";

/** The rounds a page asks for, both ends included; undefined for every round. */
function roundRange(query: z.output<typeof roundsQuery>): RoundRange | undefined {
  if (query.from === undefined && query.limit === undefined) {
    return undefined;
  }
  const from = query.from ?? 0;
  const limit = query.limit === undefined ? INT32_MAX : Math.min(query.limit, MAX_ROUNDS_PER_PAGE);
  return { from, to: Math.min(from + limit - 1, INT32_MAX) };
}

/** `/api/trainings/{id}/rounds/`: what happened in each round, and declining a round's task. */
export function trainingRoundRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/trainings/:id/rounds',
      tag: TRAININGS_TAG,
      summary: "The training's rounds: deadlines, uploads, who was left out and why, and the metrics per round.",
      description: VIEWS,
      params: trainingParams,
      query: roundsQuery,
      responses: [
        { status: 200, description: 'The rounds, in order.', schema: z.array(roundResponse) },
        { status: 400, description: '`from` or `limit` is not a whole number in range.', schema: errorSchema },
        TRAINING_MISSING,
      ],
    },
    async (ctx, { user, params, query }) => {
      ctx.body = await listRoundViews(knex, user, params.id, roundRange(query));
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/trainings/:id/rounds/:n',
      tag: TRAININGS_TAG,
      summary: 'One round of the training, by its number.',
      description: VIEWS,
      params: roundParams,
      responses: [
        { status: 200, description: 'The round.', schema: roundResponse },
        { status: 404, description: 'No such training for the caller, or no such round.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      ctx.body = await findRoundView(knex, user, params.id, params.n);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/trainings/:id/rounds/:n/decline',
      tag: TRAININGS_TAG,
      summary: "Declines the caller's pending task of round n (update, test metrics or SWAG moments).",
      description:
        'The client sends nothing for that task: the run leaves it out of that wait at once, with its message, and ' +
        'does not wait for it. Declining again answers as the first time.',
      params: roundParams,
      body: declineBody,
      bodyKind: 'data',
      responses: [
        { status: 200, description: 'The task, done as declined.', schema: declineResponse },
        { status: 400, description: 'The message is too long, or the run is past that wait.', schema: errorSchema },
        { status: 403, description: 'The caller is not a participant.', schema: errorSchema },
        { status: 404, description: 'No such training for the caller.', schema: errorSchema },
        { status: 409, description: 'No task of that round to decline, or it is done.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params, body }) => {
      const task = await declineTask(services, user, params.id, params.n, body.message ?? '');
      ctx.body = presentTask(task);
    },
  );
}

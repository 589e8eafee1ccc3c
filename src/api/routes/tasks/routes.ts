import { z } from 'zod';
import { acknowledgeTask, listOpenTasks, OPEN_TASKS_LIMIT } from '../../../db/queries/tasks';
import { notFound } from '../../../errors';
import { pollSignal } from '../../routing/poll-signal';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { errorSchema } from '../common-schemas';
import { presentTask } from './presenters';
import { MAX_WAIT_SECONDS, TASK_TYPE_NAMES, taskParams, taskResponse, tasksQuery } from './schemas';

const TAG = 'tasks';

/**
 * `/api/users/myself/tasks/`: what a client pulls instead of (or besides) receiving pushes. Tasks ask it to act; start
 * and finish messages are listed until acknowledged.
 */
export function taskRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex, tasks, stopping } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users/myself/tasks',
      tag: TAG,
      summary: "The caller's pending tasks and unacknowledged messages, oldest first; long-polls with `wait`.",
      description:
        `Tasks (${TASK_TYPE_NAMES}) are listed while pending: until their upload arrives, the caller declines them ` +
        'or their wait ends. Other notifications are listed until acknowledged. With `wait=S` (at most ' +
        `${MAX_WAIT_SECONDS}) and nothing to list, the answer comes when something arrives or after S seconds, with ` +
        `an empty list. At most ${OPEN_TASKS_LIMIT} rows; acknowledge or complete them to see the rest.`,
      query: tasksQuery,
      responses: [
        { status: 200, description: 'The open tasks and messages.', schema: z.array(taskResponse) },
        { status: 400, description: '`wait` is not a whole number of seconds from 0 to 60.', schema: errorSchema },
      ],
    },
    async (ctx, { user, query }) => {
      const waitMs = (query.wait ?? 0) * 1000;
      // Subscribed before the first read: a task stored while it runs still wakes this poll.
      const subscription = tasks.subscribe(user.id);
      const poll = pollSignal(ctx.res, stopping);
      try {
        let open = await listOpenTasks(knex, user.id);
        if (open.length === 0 && waitMs > 0 && (await subscription.wait(waitMs, poll.signal))) {
          open = await listOpenTasks(knex, user.id);
        }
        ctx.body = open.map(presentTask);
      } finally {
        subscription.close();
        poll.release();
      }
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/users/myself/tasks/:id/ack',
      tag: TAG,
      summary: "Hides one of the caller's tasks or messages from its list; an ack is not a decline.",
      description: 'A task keeps its deadline: decline it with `POST /api/trainings/{id}/rounds/{n}/decline/`.',
      params: taskParams,
      responses: [
        { status: 200, description: 'The acknowledged task or message.', schema: taskResponse },
        { status: 404, description: 'The caller has no task with this id.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      const task = await acknowledgeTask(knex, user.id, params.id);
      if (!task) {
        throw notFound(`Task ${params.id} not found.`);
      }
      ctx.body = presentTask(task);
    },
  );
}

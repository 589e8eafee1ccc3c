import { z } from 'zod';
import { findUserById, listVisibleUsers, canSeeUser } from '../../../db/queries/users';
import { listTrainingsOfUser } from '../../../db/queries/trainings';
import { notFound } from '../../../errors';
import { anonymousRoute, authedRoute, type RouteContext } from '../../routing/route';
import { ownGroups } from '../../use-cases/group-access';
import { registerUser } from '../../use-cases/register-user';
import type { ApiServices } from '../../services';
import { errorSchema } from '../common-schemas';
import { presentGroup } from '../groups/presenters';
import { groupResponse } from '../groups/schemas';
import { presentTraining } from '../trainings/presenters';
import { trainingResponse } from '../trainings/schemas';
import { presentUser } from './presenters';
import { createUserBody, userParams, userResponse } from './schemas';

const TAG = 'users';

/** `/api/users/`: registration, the caller, their groups and trainings, and users they share something with. */
export function userRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users',
      tag: TAG,
      summary: 'Users the caller shares a training or group with (all users for a superuser); no tokens.',
      responses: [{ status: 200, description: 'The users.', schema: z.array(userResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await listVisibleUsers(knex, user)).map((u) => presentUser(u, { token: u.id === user.id }));
    },
  );
  anonymousRoute(
    rc,
    {
      method: 'post',
      path: '/users',
      tag: TAG,
      summary:
        'Registers a user; the answer carries the API token and the notification secret. Only the listed fields are accepted.',
      body: createUserBody,
      bodyKind: 'data',
      responses: [
        {
          status: 201,
          description: 'The new user with its token and notification secret (shown only here).',
          schema: userResponse,
        },
        { status: 400, description: 'Invalid or unknown field, or the user name is taken.', schema: errorSchema },
      ],
    },
    async (ctx, { body }) => {
      ctx.status = 201;
      ctx.body = presentUser(await registerUser(knex, body), { token: true, notificationSecret: true });
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users/myself',
      tag: TAG,
      summary: 'The caller (without token).',
      responses: [{ status: 200, description: 'The caller.', schema: userResponse }],
    },
    (ctx, { user }) => {
      ctx.body = presentUser(user);
      return Promise.resolve();
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users/groups',
      tag: TAG,
      summary: "The caller's groups.",
      responses: [{ status: 200, description: 'The groups.', schema: z.array(groupResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await ownGroups(knex, user)).map(presentGroup);
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users/trainings',
      tag: TAG,
      summary: 'Trainings where the caller is the actor or a participant.',
      responses: [{ status: 200, description: 'The trainings.', schema: z.array(trainingResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await listTrainingsOfUser(knex, user.id)).map(presentTraining);
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/users/:id',
      tag: TAG,
      summary: 'A user the caller may see; the token only when it is the caller.',
      params: userParams,
      responses: [
        { status: 200, description: 'The user.', schema: userResponse },
        { status: 404, description: 'No such user, or not visible to the caller.', schema: errorSchema },
      ],
    },
    async (ctx, { params, user }) => {
      const found = (await canSeeUser(knex, user, params.id)) ? await findUserById(knex, params.id) : undefined;
      if (!found) {
        throw notFound(`User ${params.id} not found.`);
      }
      ctx.body = presentUser(found, { token: found.id === user.id });
    },
  );
}

import { z } from 'zod';
import { deleteGroup, listGroups } from '../../../db/queries/groups';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { forbidden } from '../../../errors';
import { createGroup, memberGroup, renameGroupTo } from '../../use-cases/group-access';
import { errorSchema } from '../common-schemas';
import { presentGroup } from './presenters';
import { groupBody, groupParams, groupPatchBody, groupResponse } from './schemas';

const TAG = 'groups';
const denied = { status: 403, description: 'Not a member (or, for the list, not a superuser).', schema: errorSchema };
const missing = { status: 404, description: 'No such group.', schema: errorSchema };

/**
 * `/api/groups/` and `/api/groups/{id}/`: groups; only superusers list them all, only members read, change or delete
 * one.
 */
export function groupRoutes(rc: RouteContext, { knex }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/groups',
      tag: TAG,
      summary: 'Every group (superusers only).',
      responses: [{ status: 200, description: 'The groups.', schema: z.array(groupResponse) }, denied],
    },
    async (ctx, { user }) => {
      if (!user.isSuperuser) {
        throw forbidden('You are not allowed to access all groups.');
      }
      ctx.body = (await listGroups(knex)).map(presentGroup);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/groups',
      tag: TAG,
      summary: 'Creates a group; the caller becomes its first member.',
      body: groupBody,
      bodyKind: 'data',
      responses: [
        { status: 201, description: 'The group.', schema: groupResponse },
        { status: 400, description: 'Missing or taken name.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body }) => {
      ctx.status = 201;
      ctx.body = presentGroup(await createGroup(knex, user, body.name));
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/groups/:id',
      tag: TAG,
      summary: 'A group the caller belongs to.',
      params: groupParams,
      responses: [{ status: 200, description: 'The group.', schema: groupResponse }, denied, missing],
    },
    async (ctx, { user, params }) => {
      ctx.body = presentGroup(await memberGroup(knex, user, params.id));
    },
  );
  for (const method of ['put', 'patch'] as const) {
    authedRoute(
      rc,
      {
        method,
        path: '/groups/:id',
        tag: TAG,
        summary: method === 'put' ? 'Renames a group.' : 'Changes a group partially.',
        params: groupParams,
        body: method === 'put' ? groupBody : groupPatchBody,
        bodyKind: 'data',
        responses: [{ status: 200, description: 'The group.', schema: groupResponse }, denied, missing],
      },
      async (ctx, { user, params, body }) => {
        const group = await memberGroup(knex, user, params.id);
        ctx.body = presentGroup(body.name === undefined ? group : await renameGroupTo(knex, group, body.name));
      },
    );
  }
  authedRoute(
    rc,
    {
      method: 'delete',
      path: '/groups/:id',
      tag: TAG,
      summary: 'Deletes a group.',
      params: groupParams,
      responses: [{ status: 204, description: 'Deleted; empty body.' }, denied, missing],
    },
    async (ctx, { user, params }) => {
      await deleteGroup(knex, (await memberGroup(knex, user, params.id)).id);
      ctx.status = 204;
    },
  );
}

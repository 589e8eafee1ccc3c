import { z } from 'zod';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { visibleGroup, visibleGroups } from '../../use-cases/group-access';
import { changeGroup, createGroup, removeGroup } from '../../use-cases/group-commands';
import { errorSchema } from '../common-schemas';
import { presentGroup } from './presenters';
import { createGroupBody, groupParams, groupResponse, patchGroupBody, updateGroupBody } from './schemas';

/** The tag of every group route. */
export const GROUPS_TAG = 'groups';

/** The 403 and 404 answers of routes on one group. */
export const GROUP_REFUSALS = [
  {
    status: 403,
    description: 'A private group the caller is not in, or (for changes) a group the caller does not own.',
    schema: errorSchema,
  },
  { status: 404, description: 'No such group.', schema: errorSchema },
] as const;

/**
 * `/api/groups/` and `/api/groups/{id}/`: anyone creates a group and owns it; everyone sees the public groups and
 * their own (superusers all); only the owner or a superuser changes or deletes one.
 */
export function groupRoutes(rc: RouteContext, { knex }: ApiServices): void {
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/groups',
      tag: GROUPS_TAG,
      summary: "The public groups and the caller's own (every group for a superuser).",
      responses: [{ status: 200, description: 'The groups.', schema: z.array(groupResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await visibleGroups(knex, user)).map(presentGroup);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/groups',
      tag: GROUPS_TAG,
      summary: 'Creates a group, private unless `public`; the caller becomes its owner and first member.',
      body: createGroupBody,
      bodyKind: 'data',
      responses: [
        { status: 201, description: 'The group.', schema: groupResponse },
        { status: 400, description: 'Missing or taken name.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body }) => {
      ctx.status = 201;
      ctx.body = presentGroup(await createGroup(knex, user, body));
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/groups/:id',
      tag: GROUPS_TAG,
      summary: 'A public group, or one the caller belongs to (any group for a superuser).',
      params: groupParams,
      responses: [{ status: 200, description: 'The group.', schema: groupResponse }, ...GROUP_REFUSALS],
    },
    async (ctx, { user, params }) => {
      ctx.body = presentGroup(await visibleGroup(knex, user, params.id));
    },
  );
  for (const method of ['put', 'patch'] as const) {
    authedRoute(
      rc,
      {
        method,
        path: '/groups/:id',
        tag: GROUPS_TAG,
        summary:
          method === 'put'
            ? 'Renames a group, and may set `public` or hand it to another member (`owner`); owner or superuser.'
            : 'Changes any of `name`, `public` and `owner` of a group; owner or superuser.',
        params: groupParams,
        body: method === 'put' ? updateGroupBody : patchGroupBody,
        bodyKind: 'data',
        responses: [
          { status: 200, description: 'The group.', schema: groupResponse },
          { status: 400, description: 'A taken name, or a new owner who is not a member.', schema: errorSchema },
          ...GROUP_REFUSALS,
        ],
      },
      async (ctx, { user, params, body }) => {
        ctx.body = presentGroup(await changeGroup(knex, user, params.id, body));
      },
    );
  }
  authedRoute(
    rc,
    {
      method: 'delete',
      path: '/groups/:id',
      tag: GROUPS_TAG,
      summary: 'Deletes a group; owner or superuser.',
      params: groupParams,
      responses: [{ status: 204, description: 'Deleted; empty body.' }, ...GROUP_REFUSALS],
    },
    async (ctx, { user, params }) => {
      await removeGroup(knex, user, params.id);
      ctx.status = 204;
    },
  );
}

import type { Knex } from 'knex';
import type { User } from '../../../db/models/user';
import type { GroupWithMembers } from '../../../db/queries/groups';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ResponseSpec } from '../../routing/route-spec';
import type { ApiServices } from '../../services';
import { addMembers, joinGroup, leaveGroup, removeMembers } from '../../use-cases/group-commands';
import { errorSchema } from '../common-schemas';
import { presentGroup } from './presenters';
import { GROUP_REFUSALS, GROUPS_TAG } from './routes';
import { groupParams, groupResponse, membersBody } from './schemas';

/**
 * `/api/groups/{id}/members/`, `/join/` and `/leave/`: the owner (or a superuser) adds and removes members; anyone
 * joins a public group; members leave, except the owner.
 */
export function groupMemberRoutes(rc: RouteContext, { knex }: ApiServices): void {
  for (const [method, command] of [
    ['post', addMembers],
    ['delete', removeMembers],
  ] as const) {
    authedRoute(
      rc,
      {
        method,
        path: '/groups/:id/members',
        tag: GROUPS_TAG,
        summary:
          method === 'post'
            ? 'Adds users to a group (those already in it stay); owner or superuser.'
            : 'Removes members from a group (the owner cannot be removed); owner or superuser.',
        params: groupParams,
        body: membersBody,
        bodyKind: 'data',
        responses: [
          { status: 200, description: 'The group, with its members now.', schema: groupResponse },
          { status: 400, description: 'An id that is no user, or (to remove) the owner.', schema: errorSchema },
          ...GROUP_REFUSALS,
        ],
      },
      async (ctx, { user, params, body }) => {
        ctx.body = presentGroup(await command(knex, user, params.id, body.user_ids));
      },
    );
  }
  selfRoute(rc, knex, 'join', joinGroup, {
    summary: 'The caller joins a public group (a superuser any group); joining twice is harmless.',
    refusals: [],
  });
  selfRoute(rc, knex, 'leave', leaveGroup, {
    summary: 'The caller leaves a group it can see; its owner cannot (hand it over or delete it first).',
    refusals: [{ status: 400, description: 'The caller owns the group.', schema: errorSchema }],
  });
}

/** `POST /api/groups/{id}/<action>/`: the caller changes its own membership. */
function selfRoute(
  rc: RouteContext,
  knex: Knex,
  action: 'join' | 'leave',
  command: (knex: Knex, user: User, id: number) => Promise<GroupWithMembers>,
  doc: { summary: string; refusals: readonly ResponseSpec[] },
): void {
  authedRoute(
    rc,
    {
      method: 'post',
      path: `/groups/:id/${action}`,
      tag: GROUPS_TAG,
      summary: doc.summary,
      params: groupParams,
      responses: [
        { status: 200, description: 'The group, with its members now.', schema: groupResponse },
        ...doc.refusals,
        ...GROUP_REFUSALS,
      ],
    },
    async (ctx, { user, params }) => {
      ctx.body = presentGroup(await command(knex, user, params.id));
    },
  );
}

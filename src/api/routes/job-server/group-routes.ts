import { findGroupByName } from '../../../db/queries/groups';
import { notFound } from '../../../errors';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { visibleGroups } from '../../use-cases/group-access';
import { createGroup, joinGroup } from '../../use-cases/group-commands';
import { joinRound } from '../../use-cases/join-round';
import { errorSchema } from '../common-schemas';
import { presentGroup } from '../groups/presenters';
import { groupResponse } from '../groups/schemas';
import { roundResponse } from '../trainings/round-schemas';
import { presentGroupsByName } from './presenters';
import { addGroupBody, emptyBody, groupNameParams, groupsByNameResponse, integerIdParams } from './schemas';
import { JOB_SERVER_TAG } from './tag';

/** `/actions/add_group/`, `join_group/<name>/`, `get_groups.json/` and `get_round/<id>.json/`. */
export function jobServerGroupRoutes(rc: RouteContext, { knex, orchestrator }: ApiServices): void {
  const common = { method: 'post', root: true, tag: JOB_SERVER_TAG, bodyKind: 'data' } as const;
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/add_group/',
      summary: 'Creates a group, as `POST /api/groups/` does: the caller owns it; `public` is `True` or `False`.',
      body: addGroupBody,
      responses: [
        { status: 201, description: 'The group.', schema: groupResponse },
        { status: 400, description: 'A missing or taken name.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body }) => {
      ctx.status = 201;
      ctx.body = presentGroup(await createGroup(knex, user, { name: body.group_name, public: body.public }));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/join_group/:name/',
      summary: 'Joins a public group by name, as `POST /api/groups/{id}/join/` does.',
      description: 'The name is decoded as `quote_plus` encodes it: `+` is a space.',
      params: groupNameParams,
      body: emptyBody,
      responses: [
        { status: 200, description: 'The group.', schema: groupResponse },
        { status: 403, description: 'A private group the caller is not in.', schema: errorSchema },
        { status: 404, description: 'No group of that name.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      const group = await findGroupByName(knex, params.name);
      if (!group) {
        throw notFound(`Group ${params.name} not found.`);
      }
      ctx.body = presentGroup(await joinGroup(knex, user, group.id));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_groups.json/',
      summary: 'The groups the caller sees (public ones and its own), by name.',
      body: emptyBody,
      responses: [{ status: 200, description: 'The groups.', schema: groupsByNameResponse }],
    },
    async (ctx, { user }) => {
      ctx.body = presentGroupsByName(await visibleGroups(knex, user), user);
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_round/:id.json/',
      summary: "Joins a round's training when the caller may, and reads the round by its id.",
      description:
        'A caller who is not yet a participant joins as `POST /api/trainings/{id}/join/` does (a member of the ' +
        "training's group); the round is answered as `GET /api/trainings/{id}/rounds/{n}/` answers it.",
      params: integerIdParams,
      body: emptyBody,
      responses: [
        { status: 200, description: 'The round.', schema: roundResponse },
        { status: 400, description: 'The training is over: it takes no new participants.', schema: errorSchema },
        { status: 403, description: "Not a member of the training's group.", schema: errorSchema },
        { status: 404, description: 'No such round, or one the caller may not see.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      ctx.body = await joinRound({ knex, orchestrator }, user, params.id);
    },
  );
}

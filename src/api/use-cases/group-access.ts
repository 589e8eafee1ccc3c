import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import {
  findGroupById,
  type GroupWithMembers,
  listGroups,
  listGroupsOfUser,
  listPublicAndOwnGroups,
  withMemberIds,
} from '../../db/queries/groups';
import { forbidden, notFound } from '../../errors';

/** The reference's answer to a caller who may not see a group. */
const NOT_ALLOWED = 'You are not allowed to access this group.';

/** `GET /api/groups/`: every group for a superuser; the public groups and the caller's own for anyone else. */
export async function visibleGroups(knex: Knex, user: User): Promise<GroupWithMembers[]> {
  return await withMemberIds(
    knex,
    user.isSuperuser ? await listGroups(knex) : await listPublicAndOwnGroups(knex, user.id),
  );
}

/** `GET /api/users/groups/`: the groups the caller belongs to. */
export async function ownGroups(knex: Knex, user: User): Promise<GroupWithMembers[]> {
  return await withMemberIds(knex, await listGroupsOfUser(knex, user.id));
}

/** True when `user` belongs to the group. */
export function isMember({ memberIds }: GroupWithMembers, user: User): boolean {
  return memberIds.includes(user.id);
}

/**
 * The group `id` when `user` may see it: a public group, one of theirs, or any for a superuser.
 * @throws 404 when there is no such group, 403 (the reference's words) when it is private and not theirs.
 */
export async function visibleGroup(knex: Knex, user: User, id: number): Promise<GroupWithMembers> {
  const group = await anyGroup(knex, id);
  if (!group.group.public && !user.isSuperuser && !isMember(group, user)) {
    throw forbidden(NOT_ALLOWED);
  }
  return group;
}

/**
 * The group `id` when `user` may change it: its owner or a superuser.
 * @throws 404 when there is no such group, 403 when the caller cannot see it or sees it without owning it.
 */
export async function ownedGroup(knex: Knex, user: User, id: number): Promise<GroupWithMembers> {
  const group = await visibleGroup(knex, user, id);
  if (group.group.ownerId !== user.id && !user.isSuperuser) {
    throw forbidden(`Only the owner of group ${id} may change it or its members.`);
  }
  return group;
}

/** The group `id` with its members, whoever asks. @throws 404 when there is no such group. */
export async function anyGroup(knex: Knex, id: number): Promise<GroupWithMembers> {
  const group = await findGroupById(knex, id);
  if (!group) {
    throw notFound(`Group ${id} not found.`);
  }
  const [found] = await withMemberIds(knex, [group]);
  return found ?? { group, memberIds: [] };
}

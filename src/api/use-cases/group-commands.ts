import type { Knex } from 'knex';
import type { Group } from '../../db/models/group';
import type { User } from '../../db/models/user';
import {
  addGroupMembers,
  deleteGroup,
  type GroupChanges,
  type GroupWithMembers,
  insertGroup,
  removeGroupMembers,
  updateGroup,
} from '../../db/queries/groups';
import { findUnknownUserIds } from '../../db/queries/users';
import { isUniqueViolation } from '../../db/constraint-errors';
import { fieldInvalid, forbidden, invalidInput } from '../../errors';
import type { CreateGroupRequest, PatchGroupRequest } from '../routes/groups/schemas';
import { anyGroup, isMember, ownedGroup, visibleGroup } from './group-access';

/*
 * Who may do what is checked before each write; the rule that the owner is a member is also a deferred foreign key
 * (groups_owner_is_member), so a write racing a check (the owner handed over while the new owner leaves) fails with a
 * 409 instead of leaving a group owned by a non-member.
 */

/** How to hand a group over, said wherever a rule needs the owner to stay. */
const HAND_OVER = 'hand the group to another member first (PATCH with "owner") or delete it';

/** `POST /api/groups/`: creates a group with the caller as owner and first member. @throws 400 for a taken name. */
export async function createGroup(knex: Knex, user: User, fields: CreateGroupRequest): Promise<GroupWithMembers> {
  const group = await uniqueName(() => insertGroup(knex, fields.name, user.id, { public: fields.public ?? false }));
  return { group, memberIds: [user.id] };
}

/**
 * `PUT`/`PATCH /api/groups/{id}/`: the owner (or a superuser) renames the group, makes it public or private, or hands
 * it to another member. @throws 403 for anyone else, 400 for a taken name or a new owner who is not a member.
 */
export async function changeGroup(
  knex: Knex,
  user: User,
  id: number,
  fields: PatchGroupRequest,
): Promise<GroupWithMembers> {
  const current = await ownedGroup(knex, user, id);
  if (fields.owner !== undefined && !current.memberIds.includes(fields.owner)) {
    throw fieldInvalid('owner', `User ${fields.owner} is not a member of group ${id}: add them first.`);
  }
  const changes: GroupChanges = {
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.public === undefined ? {} : { public: fields.public }),
    ...(fields.owner === undefined ? {} : { ownerId: fields.owner }),
  };
  if (Object.keys(changes).length === 0) {
    return current;
  }
  return { group: await uniqueName(() => updateGroup(knex, id, changes)), memberIds: current.memberIds };
}

/** `DELETE /api/groups/{id}/`: the owner (or a superuser) deletes the group. @throws 403 for anyone else. */
export async function removeGroup(knex: Knex, user: User, id: number): Promise<void> {
  await deleteGroup(knex, (await ownedGroup(knex, user, id)).group.id);
}

/** `POST /api/groups/{id}/members/`: the owner (or a superuser) adds users. @throws 400 naming unknown ids. */
export async function addMembers(
  knex: Knex,
  user: User,
  id: number,
  userIds: readonly string[],
): Promise<GroupWithMembers> {
  await ownedGroup(knex, user, id);
  await requireUsers(knex, userIds);
  await addGroupMembers(knex, id, userIds);
  return await anyGroup(knex, id);
}

/** `DELETE /api/groups/{id}/members/`: the owner (or a superuser) removes members. @throws 400 for the owner. */
export async function removeMembers(
  knex: Knex,
  user: User,
  id: number,
  userIds: readonly string[],
): Promise<GroupWithMembers> {
  const { group } = await ownedGroup(knex, user, id);
  await requireUsers(knex, userIds);
  if (group.ownerId !== null && userIds.includes(group.ownerId)) {
    throw fieldInvalid('user_ids', `User ${group.ownerId} owns group ${id} and cannot be removed: ${HAND_OVER}.`);
  }
  await removeGroupMembers(knex, id, userIds);
  return await anyGroup(knex, id);
}

/**
 * `POST /api/groups/{id}/join/`: the caller joins a public group (a superuser any group); joining twice is harmless.
 * @throws 403 for a private group the caller is not in.
 */
export async function joinGroup(knex: Knex, user: User, id: number): Promise<GroupWithMembers> {
  const found = await anyGroup(knex, id);
  if (isMember(found, user)) {
    return found;
  }
  if (!found.group.public && !user.isSuperuser) {
    throw forbidden(`Group ${id} is private: only its owner can add members.`);
  }
  await addGroupMembers(knex, id, [user.id]);
  return await anyGroup(knex, id);
}

/**
 * `POST /api/groups/{id}/leave/`: the caller leaves a group they can see; leaving one they are not in is harmless.
 * @throws 400 for the owner, who must hand the group over or delete it first.
 */
export async function leaveGroup(knex: Knex, user: User, id: number): Promise<GroupWithMembers> {
  const found = await visibleGroup(knex, user, id);
  if (found.group.ownerId === user.id) {
    throw invalidInput(`You own group ${id}, so you cannot leave it: ${HAND_OVER}.`);
  }
  await removeGroupMembers(knex, id, [user.id]);
  return await anyGroup(knex, id);
}

/** @throws 400 naming the ids in `userIds` that are no user's. */
async function requireUsers(knex: Knex, userIds: readonly string[]): Promise<void> {
  const unknown = await findUnknownUserIds(knex, userIds);
  if (unknown.length > 0) {
    throw fieldInvalid('user_ids', `Users not found: ${unknown.join(', ')}.`);
  }
}

/** Runs a write that names a group, answering a taken name with the reference's 400. */
async function uniqueName(write: () => Promise<Group>): Promise<Group> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw fieldInvalid('name', 'group with this name already exists.');
    }
    throw err;
  }
}

import type { Knex } from 'knex';
import type { Group } from '../../db/models/group';
import type { User } from '../../db/models/user';
import { findGroupById, insertGroup, isGroupMember, renameGroup } from '../../db/queries/groups';
import { fieldInvalid, notFound } from '../../errors';
import { isUniqueViolation } from '../../db/constraint-errors';
import { forbidden } from '../../errors';

/** The group `id` when `user` belongs to it. @throws 404 when absent, 403 when the caller is not a member. */
export async function memberGroup(knex: Knex, user: User, id: number): Promise<Group> {
  const group = await findGroupById(knex, id);
  if (!group) {
    throw notFound(`Group ${id} not found.`);
  }
  if (!(await isGroupMember(knex, group.id, user.id))) {
    throw forbidden('You are not allowed to access this group.');
  }
  return group;
}

/** Creates a group with the caller as its first member. @throws 400 when the name is taken. */
export async function createGroup(knex: Knex, user: User, name: string): Promise<Group> {
  return await uniqueName(() => insertGroup(knex, name, user.id));
}

/** Renames a group. @throws 400 when another group has the name, as creating one with it is. */
export async function renameGroupTo(knex: Knex, group: Group, name: string): Promise<Group> {
  return await uniqueName(() => renameGroup(knex, group.id, name));
}

/** Runs a write that names a group, answering a taken name with the reference's 400. */
async function uniqueName(write: () => Promise<Group>): Promise<Group> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const message = 'group with this name already exists.';
      throw fieldInvalid('name', message);
    }
    throw err;
  }
}

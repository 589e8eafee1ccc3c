import type { Knex } from 'knex';
import type { Group } from '../../db/models/group';
import type { User } from '../../db/models/user';
import { findGroupById, insertGroup, isGroupMember } from '../../db/queries/groups';
import { invalidInput, notFound } from '../../errors';
import { forbidden } from './access-errors';

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
  try {
    return await insertGroup(knex, name, user.id);
  } catch (err) {
    if ((err as { name?: unknown }).name === 'UniqueViolationError') {
      const message = 'group with this name already exists.';
      throw invalidInput(`name: ${message}`, { name: [message] });
    }
    throw err;
  }
}

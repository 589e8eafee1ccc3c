import type { Knex } from 'knex';
import { Group } from '../models/group';

/** Every group, by id. `db` is the knex instance or a transaction. */
export async function listGroups(db: Knex): Promise<Group[]> {
  return await Group.query(db).orderBy('id');
}

/** The groups `userId` belongs to. */
export async function listGroupsOfUser(db: Knex, userId: string): Promise<Group[]> {
  return await Group.query(db)
    .whereIn('id', db.select('group_id').from('group_memberships').where('user_id', userId))
    .orderBy('id');
}

/** The group with `id`, if any. */
export async function findGroupById(db: Knex, id: number): Promise<Group | undefined> {
  return await Group.query(db).findById(id);
}

/** True when `userId` belongs to group `groupId`. */
export async function isGroupMember(db: Knex, groupId: number, userId: string): Promise<boolean> {
  const row: unknown = await db('group_memberships').where({ group_id: groupId, user_id: userId }).first();
  return row !== undefined;
}

/** Creates a group with its creator as first member. */
export async function insertGroup(db: Knex, name: string, creatorId: string): Promise<Group> {
  return await db.transaction(async (trx) => {
    const group = await Group.query(trx).insert({ name });
    await trx('group_memberships').insert({ group_id: group.id, user_id: creatorId });
    return group;
  });
}

/** Renames a group. */
export async function renameGroup(db: Knex, id: number, name: string): Promise<Group> {
  return await Group.query(db).patchAndFetchById(id, { name });
}

/** Deletes a group (memberships go with it). */
export async function deleteGroup(db: Knex, id: number): Promise<void> {
  await Group.query(db).deleteById(id);
}

import type { Knex } from 'knex';
import { Group } from '../models/group';

/** A group with its members' ids, in the order they joined (the owner is one of them). */
export interface GroupWithMembers {
  readonly group: Group;
  readonly memberIds: readonly string[];
}

/** What an update of a group may change. */
export type GroupChanges = Partial<Pick<Group, 'name' | 'public' | 'ownerId'>>;

/** Every group, by id. `db` is the knex instance or a transaction. */
export async function listGroups(db: Knex): Promise<Group[]> {
  return await Group.query(db).orderBy('id');
}

/** The groups `userId` belongs to. */
export async function listGroupsOfUser(db: Knex, userId: string): Promise<Group[]> {
  return await Group.query(db).whereIn('id', groupIdsOf(db, userId)).orderBy('id');
}

/** The public groups and those `userId` belongs to. */
export async function listPublicAndOwnGroups(db: Knex, userId: string): Promise<Group[]> {
  return await Group.query(db)
    .where((q) => {
      q.where('public', true).orWhereIn('id', groupIdsOf(db, userId));
    })
    .orderBy('id');
}

/** The group with `id`, if any. */
export async function findGroupById(db: Knex, id: number): Promise<Group | undefined> {
  return await Group.query(db).findById(id);
}

/** The group named `name` (names are unique), if any. */
export async function findGroupByName(db: Knex, name: string): Promise<Group | undefined> {
  return await Group.query(db).findOne({ name });
}

/** True when `userId` belongs to group `groupId`. */
export async function isGroupMember(db: Knex, groupId: number, userId: string): Promise<boolean> {
  const row: unknown = await db('group_memberships').where({ group_id: groupId, user_id: userId }).first();
  return row !== undefined;
}

/** `groups`, each with its members' ids (two queries, whatever the number of groups). */
export async function withMemberIds(db: Knex, groups: readonly Group[]): Promise<GroupWithMembers[]> {
  const rows = await db<{ groupId: number; userId: string }>('group_memberships')
    .select('groupId', 'userId')
    .whereIn(
      'groupId',
      groups.map((g) => g.id),
    )
    .orderBy(['joinedAt', 'userId']);
  const members = new Map<number, string[]>();
  for (const { groupId, userId } of rows) {
    members.set(groupId, [...(members.get(groupId) ?? []), userId]);
  }
  return groups.map((group) => ({ group, memberIds: members.get(group.id) ?? [] }));
}

/** Creates a group owned by `ownerId`, who becomes its first member; private unless `settings.public`. */
export async function insertGroup(
  db: Knex,
  name: string,
  ownerId: string,
  settings: { public?: boolean } = {},
): Promise<Group> {
  return await db.transaction(async (trx) => {
    const group = await Group.query(trx).insert({ name, ownerId, public: settings.public ?? false });
    await trx('group_memberships').insert({ group_id: group.id, user_id: ownerId });
    return group;
  });
}

/** Changes a group's name, visibility or owner (the new owner must already be a member, or the commit fails). */
export async function updateGroup(db: Knex, id: number, changes: GroupChanges): Promise<Group> {
  return await Group.query(db).patchAndFetchById(id, changes);
}

/** Adds users to a group; those already in it stay as they were. */
export async function addGroupMembers(db: Knex, groupId: number, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) {
    return;
  }
  await db('group_memberships')
    .insert(userIds.map((userId) => ({ groupId, userId })))
    .onConflict(['groupId', 'userId'])
    .ignore();
}

/** Removes users from a group; ids of non-members are ignored. Removing the owner fails (see `groups_owner_is_member`). */
export async function removeGroupMembers(db: Knex, groupId: number, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) {
    return;
  }
  await db('group_memberships').where('groupId', groupId).whereIn('userId', userIds).delete();
}

/** Deletes a group (memberships go with it). */
export async function deleteGroup(db: Knex, id: number): Promise<void> {
  await Group.query(db).deleteById(id);
}

function groupIdsOf(db: Knex, userId: string): Knex.QueryBuilder {
  return db.select('group_id').from('group_memberships').where('user_id', userId);
}

import type { Knex } from 'knex';
import { raw } from 'objection';
import { User } from '../models/user';

/** The fields registration may set (a whitelist: never `is_superuser`, `is_active` or `id`). */
export interface NewUser {
  username: string;
  passwordHash: string;
  token: string;
  notificationSecret: string;
  firstName: string;
  lastName: string;
  email: string;
  actor: boolean;
  client: boolean;
  messageEndpoint: string;
}

/** The user owning `token`, if any. `db` is the knex instance or a transaction, as in every query here. */
export async function findUserByToken(db: Knex, token: string): Promise<User | undefined> {
  return await User.query(db).findOne({ token });
}

/** The user named `username`, if any. */
export async function findUserByUsername(db: Knex, username: string): Promise<User | undefined> {
  return await User.query(db).findOne({ username });
}

/** The user with `id`, if any. */
export async function findUserById(db: Knex, id: string): Promise<User | undefined> {
  return await User.query(db).findById(id);
}

/** Inserts a user; a taken user name surfaces as a unique violation. */
export async function insertUser(db: Knex, user: NewUser): Promise<User> {
  return await User.query(db).insert(user);
}

/** Gives the user a new API token; the old one stops working with this statement. */
export async function replaceToken(db: Knex, id: string, token: string): Promise<void> {
  await User.query(db)
    .findById(id)
    .patch({ token, updatedAt: raw('now()') });
}

/** Gives the user a new notification secret: the pushes after this statement are signed with it. */
export async function replaceNotificationSecret(db: Knex, id: string, notificationSecret: string): Promise<void> {
  await User.query(db)
    .findById(id)
    .patch({ notificationSecret, updatedAt: raw('now()') });
}

/** Records that the user logged in now. */
export async function recordLogin(db: Knex, id: string): Promise<void> {
  await User.query(db)
    .findById(id)
    .patch({ lastLogin: raw('now()') });
}

/** How many of `ids` exist (duplicates in `ids` counted once). */
export async function countExistingUsers(db: Knex, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) {
    return 0;
  }
  return await User.query(db)
    .whereIn('id', [...new Set(ids)])
    .resultSize();
}

/** The ids in `ids` that name no user, in the order given. */
export async function findUnknownUserIds(db: Knex, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) {
    return [];
  }
  const found = await User.query(db)
    .whereIn('id', [...new Set(ids)])
    .select('id');
  const known = new Set(found.map((user) => user.id));
  return ids.filter((id) => !known.has(id));
}

/**
 * The users `viewer` may see: everyone for a superuser; otherwise the viewer and the users sharing a training
 * (actor or participant) or a group with them.
 */
export async function listVisibleUsers(db: Knex, viewer: User): Promise<User[]> {
  const query = User.query(db).orderBy('username');
  if (viewer.isSuperuser) {
    return await query;
  }
  return await query.where((q) => {
    q.where('id', viewer.id).orWhereIn('id', relatedUserIds(db, viewer.id));
  });
}

/** True when `viewer` may see `userId` (see `listVisibleUsers`). */
export async function canSeeUser(db: Knex, viewer: User, userId: string): Promise<boolean> {
  if (viewer.isSuperuser || viewer.id === userId) {
    return true;
  }
  const found = await User.query(db).findById(userId).whereIn('id', relatedUserIds(db, viewer.id));
  return found !== undefined;
}

function relatedUserIds(db: Knex, viewerId: string): Knex.QueryBuilder {
  const myTrainings = db
    .select('id')
    .from('trainings')
    .where('actor_id', viewerId)
    .union(db.select('training_id').from('training_participants').where('user_id', viewerId));
  const myGroups = db.select('group_id').from('group_memberships').where('user_id', viewerId);
  return db
    .select('actor_id AS id')
    .from('trainings')
    .whereIn('id', myTrainings)
    .union(db.select('user_id AS id').from('training_participants').whereIn('training_id', myTrainings))
    .union(db.select('user_id AS id').from('group_memberships').whereIn('group_id', myGroups));
}

import type { Knex } from 'knex';

/**
 * Group owners and public groups (docs/api.md#groups). A group gets an owner, who must be one of its members, and a
 * `public` flag; memberships get the time they began, so members are listed in the order they joined.
 *
 * Existing groups are given their earliest-registered member (users.created_at, then id) as owner: memberships had no
 * order of their own, and until now the API added no one but the creator, so a group made through it has exactly one
 * member and that member is its creator. A group without members stays without owner (only superusers change it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('group_memberships', (t) => {
    t.timestamp('joined_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('groups', (t) => {
    // Deleting the owner's account leaves the group to superusers rather than deleting it under its members.
    t.uuid('owner_id').nullable().references('users.id').onDelete('SET NULL');
    t.boolean('public').notNullable().defaultTo(false);
  });
  await knex.raw(`
    UPDATE groups g SET owner_id = (
      SELECT m.user_id FROM group_memberships m JOIN users u ON u.id = m.user_id
       WHERE m.group_id = g.id
       ORDER BY u.created_at, u.id
       LIMIT 1)
  `);
  // The owner is a member. Deferred, so that a group and its owner's membership can be inserted in either order in
  // one transaction, and so that deleting a user (membership cascaded, owner set null) passes at commit.
  await knex.raw(`
    ALTER TABLE groups ADD CONSTRAINT groups_owner_is_member
      FOREIGN KEY (id, owner_id) REFERENCES group_memberships (group_id, user_id) DEFERRABLE INITIALLY DEFERRED
  `);
}

/** Drops what `up` added. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE groups DROP CONSTRAINT groups_owner_is_member');
  await knex.schema.alterTable('groups', (t) => {
    t.dropColumn('public');
    t.dropColumn('owner_id');
  });
  await knex.schema.alterTable('group_memberships', (t) => {
    t.dropColumn('joined_at');
  });
}

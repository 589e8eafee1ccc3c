import type { Knex } from 'knex';

/** Users (with their API token), groups and memberships. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.string('username', 150).notNullable().unique();
    // argon2 PHC string; empty for accounts that may only use their token.
    t.text('password_hash').notNullable().defaultTo('');
    // DRF authtoken compatible: 40 lowercase hex characters, returned to its owner, so stored as is.
    t.specificType('token', 'char(40)').notNullable().unique();
    t.boolean('actor').notNullable().defaultTo(false);
    t.boolean('client').notNullable().defaultTo(false);
    // Empty: the client pulls its tasks instead of receiving pushed notifications.
    t.text('message_endpoint').notNullable().defaultTo('');
    t.boolean('is_superuser').notNullable().defaultTo(false);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.string('first_name', 150).notNullable().defaultTo('');
    t.string('last_name', 150).notNullable().defaultTo('');
    t.string('email', 254).notNullable().defaultTo('');
    t.timestamp('last_login', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_token_format CHECK (token ~ '^[0-9a-f]{40}$')`);
  // No `?` in the pattern: knex.raw would take it for a binding placeholder.
  await knex.raw(
    `ALTER TABLE users ADD CONSTRAINT users_message_endpoint_scheme CHECK (message_endpoint = '' OR message_endpoint ~* '^https{0,1}://')`,
  );

  await knex.schema.createTable('groups', (t) => {
    t.increments('id').primary();
    t.string('name', 150).notNullable().unique();
  });
  await knex.schema.createTable('group_memberships', (t) => {
    t.integer('group_id').notNullable().references('groups.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.primary(['group_id', 'user_id']);
  });
}

/** Drops what `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('group_memberships');
  await knex.schema.dropTable('groups');
  await knex.schema.dropTable('users');
}

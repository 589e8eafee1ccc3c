import type { Knex } from 'knex';

/**
 * Browser sessions and failed logins (docs/api.md#sessions).
 * - `sessions`: the cookie carries a random key, of which only the SHA-256 is stored, so a leaked table cannot be
 *   replayed; each session holds its CSRF token. Expiry is computed from the two timestamps and the configuration.
 * - `login_failures`: one row per failed (or running) password check, counted per user name and per address over a
 *   window; shared by every API process. The user name is stored as a SHA-256: a Basic header may carry any bytes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    t.specificType('key_hash', 'char(64)').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('csrf_token').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id']);
    // Pruning finds the idle and the old sessions by these.
    t.index(['last_used_at']);
    t.index(['created_at']);
  });

  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id').primary();
    t.specificType('username_hash', 'char(64)').notNullable();
    t.string('address', 64).notNullable();
    t.timestamp('failed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['username_hash', 'failed_at']);
    t.index(['address', 'failed_at']);
    t.index(['failed_at']);
  });
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_failures');
  await knex.schema.dropTable('sessions');
}

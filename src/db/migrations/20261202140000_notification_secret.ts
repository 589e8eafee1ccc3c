import type { Knex } from 'knex';

/**
 * 64 random hex characters from two v4 UUIDs (244 random bits): `gen_random_uuid()` is in Postgres's core, pgcrypto's
 * `gen_random_bytes()` may be absent. A volatile default is evaluated per row, so every existing user gets their own.
 */
const RANDOM_SECRET = `replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')`;

/**
 * `users.notification_secret` keys the HMAC of pushed notifications instead of the API token, so rotating the token
 * never breaks a client's signature check (docs/training.md#notifications). Registration and rotation generate it in
 * the API; the default fills in the users registered before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE users ADD COLUMN notification_secret char(64) NOT NULL DEFAULT (${RANDOM_SECRET})`);
  await knex.raw(
    `ALTER TABLE users ADD CONSTRAINT users_notification_secret_format CHECK (notification_secret ~ '^[0-9a-f]{64}$')`,
  );
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_notification_secret_format');
  await knex.raw('ALTER TABLE users DROP COLUMN notification_secret');
}

import type { Knex } from 'knex';
import { syncDerivedChecks } from './derived-checks';

/**
 * Applies every pending migration, then makes the CHECKs whose values come from the code (aggregation methods,
 * training states) match it; returns the names of the migrations applied.
 */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest()) as [number, string[]];
  await syncDerivedChecks(knex);
  return applied;
}

/** Rolls back every applied migration (all batches); returns the names rolled back. */
export async function migrateDownAll(knex: Knex): Promise<string[]> {
  const [, reverted] = (await knex.migrate.rollback(undefined, true)) as [number, string[]];
  return reverted;
}

/** Makes sure the database in `url` exists, connecting to the server's `postgres` database to create it. */
export async function ensureDatabase(adminKnex: Knex, name: string): Promise<void> {
  const found = await adminKnex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
  if (found.rows.length === 0) {
    await adminKnex.raw('CREATE DATABASE ??', [name]);
  }
}

import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { testEnv } from './test-env';

/** A knex instance on the migrated test database; destroy it in afterAll. */
export function createTestKnex(poolMax = 5): Knex {
  return createKnex({ url: testEnv('databaseUrl'), poolMax });
}

/** Creates an empty database of its own on the test server, for tests that migrate or break it. */
export async function createScratchDatabase(): Promise<{ knex: Knex; drop(): Promise<void> }> {
  const name = `scratch_${randomBytes(6).toString('hex')}`;
  const adminUrl = testEnv('adminDatabaseUrl');
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const knex = createKnex({ url: url.toString(), poolMax: 2 });
  return {
    knex,
    drop: async () => {
      await knex.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      await admin.destroy();
    },
  };
}

/** Applies the pending migrations up to and including `name`, one at a time (knex only migrates to the latest). */
export async function migrateUpTo(knex: Knex, name: string): Promise<void> {
  const [, pending] = (await knex.migrate.list()) as [unknown, string[]];
  if (!pending.includes(name)) {
    throw new Error(`Migration ${name} is not pending.`);
  }
  for (const next of pending.slice(0, pending.indexOf(name) + 1)) {
    await knex.migrate.up({ name: next });
  }
}

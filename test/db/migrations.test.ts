import type { Knex } from 'knex';
import { migrateDownAll, migrateLatest } from '../../src/db/migrate';
import { createScratchDatabase } from '../support/db';

/** Migrations in src/db/migrations/index.ts. */
const MIGRATION_COUNT = 19;

const TABLES = [
  'users',
  'groups',
  'group_memberships',
  'models',
  'mean_model_members',
  'model_versions',
  'trainings',
  'training_participants',
  'uploads',
  'metrics',
  'notifications',
  'rounds',
  'sessions',
  'login_failures',
  'datasets',
  'evaluations',
  'blob_leases',
];

async function existingTables(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ table_name: string }> }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY(?)`,
    [TABLES],
  );
  return result.rows.map((row) => row.table_name).sort();
}

describe('database migrations', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });

  afterAll(async () => {
    await scratch.drop();
  });

  it('when applied, rolled back and applied again, every table exists, is gone, then exists again', async () => {
    const applied = await migrateLatest(scratch.knex);
    expect(applied).toHaveLength(MIGRATION_COUNT);
    expect(await existingTables(scratch.knex)).toEqual([...TABLES].sort());

    const reverted = await migrateDownAll(scratch.knex);
    expect(reverted).toHaveLength(MIGRATION_COUNT);
    expect(await existingTables(scratch.knex)).toEqual([]);

    expect(await migrateLatest(scratch.knex)).toHaveLength(MIGRATION_COUNT);
    expect(await existingTables(scratch.knex)).toEqual([...TABLES].sort());
    expect(await migrateLatest(scratch.knex)).toEqual([]);
  });

  it('when users exist before the notification secret, each gets a random one of its own', async () => {
    await migrateDownAll(scratch.knex);
    // Up to the migration before the secret, one at a time.
    let applied: string[] = [];
    while (!applied.includes('20261202130000_tasks_and_rounds')) {
      [, applied] = (await scratch.knex.migrate.up()) as [number, string[]];
      expect(applied).toHaveLength(1);
    }
    await scratch.knex('users').insert([
      { username: 'before-1', token: 'a'.repeat(40) },
      { username: 'before-2', token: 'b'.repeat(40) },
    ]);
    await migrateLatest(scratch.knex);
    const secrets = (await scratch.knex('users').select('notificationSecret')).map(
      (row: { notificationSecret: string }) => row.notificationSecret,
    );
    expect(secrets).toHaveLength(2);
    expect(secrets.every((secret) => /^[0-9a-f]{64}$/.test(secret))).toBe(true);
    expect(new Set(secrets).size).toBe(2);
  });
});

import type { Knex } from 'knex';
import { migrateDownAll, migrateLatest } from '../../src/db/migrate';
import { createScratchDatabase } from '../support/db';

/** Migrations in src/db/migrations/index.ts. */
const MIGRATION_COUNT = 11;

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
  'datasets',
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
});

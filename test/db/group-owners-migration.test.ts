import type { Knex } from 'knex';
import { migrateLatest } from '../../src/db/migrate';
import { createScratchDatabase, migrateUpTo } from '../support/db';

/** The migration before 20261202150000_group_owners, which gives groups their owners. */
const BEFORE_OWNERS = '20261202140100_sessions_and_login_failures';

describe('migration 20261202150000_group_owners', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });

  afterAll(async () => {
    await scratch.drop();
  });

  async function user(knex: Knex, username: string, createdAt: string): Promise<string> {
    const [row] = await knex<{ id: string; username: string; token: string; createdAt: string }>('users')
      .insert({ username, token: username.padEnd(40, '0'), createdAt })
      .returning('id');
    if (!row) {
      throw new Error('no user inserted');
    }
    return row.id;
  }

  async function group(knex: Knex, name: string, memberIds: readonly string[]): Promise<number> {
    const [row] = await knex<{ id: number; name: string }>('groups').insert({ name }).returning('id');
    if (!row) {
      throw new Error('no group inserted');
    }
    for (const userId of memberIds) {
      await knex('group_memberships').insert({ groupId: row.id, userId });
    }
    return row.id;
  }

  it('when groups with members exist, each gets its earliest-registered member as owner and stays private', async () => {
    const { knex } = scratch;
    await migrateUpTo(knex, BEFORE_OWNERS);
    const older = await user(knex, 'aaaa', '2026-01-01T00:00:00Z');
    const newer = await user(knex, 'bbbb', '2026-02-01T00:00:00Z');
    const newest = await user(knex, 'cccc', '2026-03-01T00:00:00Z');
    // Memberships inserted newest user first, so that insertion order and registration order disagree.
    const mixed = await group(knex, 'mixed', [newest, older, newer]);
    const single = await group(knex, 'single', [newer]);
    const empty = await group(knex, 'empty', []);

    expect(await migrateLatest(knex)).toContain('20261202150000_group_owners');

    const rows = await knex<{ id: number; ownerId: string | null; public: boolean }>('groups')
      .select('id', 'ownerId', 'public')
      .orderBy('id');
    expect(rows).toEqual([
      { id: mixed, ownerId: older, public: false },
      { id: single, ownerId: newer, public: false },
      { id: empty, ownerId: null, public: false },
    ]);
  });
});

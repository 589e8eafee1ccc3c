import type { Knex } from 'knex';
import { IDLE_CONNECTION_MS } from '../../src/db/knex';
import { createTestKnex } from '../support/db';

/** The backend pids of the pool's connections, as Postgres lists them. */
async function backendsOf(admin: Knex, pids: readonly number[]): Promise<number[]> {
  const rows = await admin.raw<{ rows: Array<{ pid: number }> }>(
    'SELECT pid FROM pg_stat_activity WHERE pid = ANY(?::int[])',
    [pids as number[]],
  );
  return rows.rows.map((row) => row.pid);
}

describe('the database pool', () => {
  let knex: Knex;
  let admin: Knex;

  beforeAll(() => {
    knex = createTestKnex(2);
    admin = createTestKnex(1);
  });

  afterAll(async () => {
    await knex.destroy();
    await admin.destroy();
  });

  it('keeps an idle connection for ten minutes (tarn reaps after 30 s unless told), so a request after a lull need not open one', async () => {
    const { pool } = knex.client as { pool: { idleTimeoutMillis: number; numFree(): number } };
    expect(pool.idleTimeoutMillis).toBe(IDLE_CONNECTION_MS);
    expect(IDLE_CONNECTION_MS).toBe(600_000);
    await knex.raw('SELECT 1');
    expect(pool.numFree()).toBe(1);
  });

  it('when Postgres ends an idle connection, the next query runs on a new one instead of failing', async () => {
    const pids = await Promise.all(
      [0, 1].map(async () => {
        const result = await knex.raw<{ rows: Array<{ pid: number }> }>(
          'SELECT pg_backend_pid() AS pid, pg_sleep(0.05)',
        );
        return result.rows[0]?.pid ?? 0;
      }),
    );
    expect(await backendsOf(admin, pids)).toHaveLength(new Set(pids).size);
    await admin.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(?::int[])', [pids]);
    const deadline = Date.now() + 10_000;
    while ((await backendsOf(admin, pids)).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await backendsOf(admin, pids)).toEqual([]);
    for (let i = 0; i < 3; i += 1) {
      const result = await knex.raw<{ rows: Array<{ pid: number }> }>('SELECT pg_backend_pid() AS pid');
      expect(pids).not.toContain(result.rows[0]?.pid);
    }
  });
});

import type { Knex } from 'knex';
import { CHANGES_CHANNEL, ChangeFeed } from '../../src/api/cache/change-feed';
import { PgListener } from '../../src/db/pg-listener';
import { createLogger } from '../../src/logger';
import { createTestKnex } from '../support/db';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

describe('the change feed of an idle process', () => {
  let knex: Knex;
  let listener: PgListener;
  let feed: ChangeFeed;
  let trips = 0;
  const heard: string[] = [];

  beforeAll(async () => {
    knex = createTestKnex();
    listener = new PgListener(testEnv('databaseUrl'), createLogger('error'), { name: 'change-feed test' });
    // Counts the feed's round trips on the real connection.
    const query = listener.query.bind(listener);
    listener.query = (sql: string) => {
      trips += 1;
      return query(sql);
    };
    feed = new ChangeFeed(listener, { heartbeatMs: 20, idleAfterMs: 150 });
    feed.subscribe({ changed: (key) => heard.push(key), reset: () => undefined });
    await feed.start();
  });

  afterAll(async () => {
    await feed.close();
    await knex.destroy();
  });

  it('pauses its heartbeat while no cache asks, hears changes meanwhile, and serves again soon after an ask', async () => {
    expect(feed.fresh()).toBe(true);
    await waitFor(() => !feed.beating, 2_000, 10);
    const paused = trips;
    // Long enough that the last proven round trip is past the bound.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(trips).toBe(paused);

    // Announcements are still heard while paused (caches drop what they name).
    await knex.raw('SELECT pg_notify(?, ?)', [CHANGES_CHANNEL, 'model:paused']);
    await waitFor(() => heard.includes('model:paused'), 2_000, 10);

    // The first ask is answered from the database (false), and resumes the heartbeat.
    expect(feed.fresh()).toBe(false);
    expect(feed.beating).toBe(true);
    await waitFor(() => feed.fresh(), 1_000, 5);
    expect(trips).toBeGreaterThan(paused);
  });

  it('keeps beating while caches keep asking', async () => {
    feed.fresh();
    const until = performance.now() + 400;
    while (performance.now() < until) {
      feed.fresh();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(feed.beating).toBe(true);
    }
    expect(feed.fresh()).toBe(true);
  });
});

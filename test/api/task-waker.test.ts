import type { Knex } from 'knex';
import { TASKS_CHANNEL, TaskWaker } from '../../src/api/task-waker';
import { PgListener } from '../../src/db/pg-listener';
import { createLogger } from '../../src/logger';
import { createTestKnex } from '../support/db';
import { testEnv } from '../support/test-env';

/** Names this test's listening connection, so killing it leaves other test files' listeners alone. */
const APPLICATION_NAME = `task-waker-test-${process.pid}`;

describe('TaskWaker', () => {
  let knex: Knex;
  let waker: TaskWaker;

  beforeAll(async () => {
    knex = createTestKnex();
    waker = new TaskWaker(
      new PgListener(testEnv('databaseUrl'), createLogger('error'), { applicationName: APPLICATION_NAME }),
    );
    await waker.start();
  });

  afterAll(async () => {
    await waker.close();
    await knex.destroy();
  });

  const announce = (receiverId: string) => knex.raw('SELECT pg_notify(?, ?)', [TASKS_CHANNEL, receiverId]);

  it('when a receiver is announced, wakes its waiting subscriptions only; one announced before the wait wakes it at once', async () => {
    const mine = waker.subscribe('receiver-a');
    const other = waker.subscribe('receiver-b');
    const woken = mine.wait(10_000);
    const idle = other.wait(300);
    await announce('receiver-a');
    await expect(woken).resolves.toBe(true);
    await expect(idle).resolves.toBe(false);
    const early = waker.subscribe('receiver-c');
    await announce('receiver-c');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(early.wait(10_000)).resolves.toBe(true);
    for (const subscription of [mine, other, early]) {
      subscription.close();
    }
    expect(waker.waitingReceivers()).toBe(0);
  });

  it('when the operator caps the wait, a longer one ends at the cap', async () => {
    const capped = new TaskWaker(new PgListener(testEnv('databaseUrl'), createLogger('error')), { maxWaitMs: 50 });
    const subscription = capped.subscribe('receiver-f');
    // A wait that ignored the cap would hold this test for a minute, past jest's timeout.
    await expect(subscription.wait(120_000)).resolves.toBe(false);
    subscription.close();
    await capped.close();
  });

  it('when the wait is aborted (the client went away), answers false at once', async () => {
    const subscription = waker.subscribe('receiver-d');
    const gone = new AbortController();
    const waiting = subscription.wait(60_000, gone.signal);
    gone.abort();
    await expect(waiting).resolves.toBe(false);
    subscription.close();
  });

  it('when its connection is killed, wakes every waiter (an announcement may be lost) and listens again', async () => {
    const subscription = waker.subscribe('receiver-e');
    const woken = subscription.wait(30_000);
    await knex.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?', [
      APPLICATION_NAME,
    ]);
    await expect(woken).resolves.toBe(true);
    subscription.close();
    // Listening again: a new announcement reaches a new waiter.
    const again = waker.subscribe('receiver-e');
    const deadline = Date.now() + 20_000;
    let result = false;
    while (!result && Date.now() < deadline) {
      await announce('receiver-e');
      result = await again.wait(200);
    }
    expect(result).toBe(true);
    again.close();
  });
});

import pg from 'pg';
import type { Logger } from '../logger';
import { watchWaiters } from '../metrics/metrics';

/** The channel the notifications table announces each new row on, with its receiver's id (migration 20261202130000). */
export const TASKS_CHANNEL = 'roundhouse_tasks';

/** A long-poll's registration: created before the poll reads the database, so no announcement falls between. */
export interface TaskSubscription {
  /**
   * Resolves true when the receiver got a new task or message since the subscription was made (at once if it did
   * already), false after `ms` or when `abort` fires.
   */
  wait(ms: number, abort?: AbortSignal): Promise<boolean>;
  /** Ends the subscription; call it in every case. */
  close(): void;
}

/** What a long-poll needs: a subscription per receiver. */
export interface TaskWakeups {
  subscribe(receiverId: string): TaskSubscription;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Wakes long-polling clients (`GET /api/users/myself/tasks/?wait=S`) when a notification for them is stored, by any
 * process: one Postgres connection per API process LISTENs on the channel a trigger NOTIFYs, so thousands of waiting
 * clients hold no database connection each. When the connection is lost it reconnects with backoff and wakes every
 * waiter (an announcement may have been missed; a woken poll only reads the database once more).
 */
export class TaskWaker implements TaskWakeups {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Stops counting the waiters in the metrics. */
  private unwatch: () => void = () => undefined;

  private readonly applicationName: string;
  private readonly maxWaitMs: number;

  /**
   * `applicationName` names its connection in `pg_stat_activity`; `maxWaitMs` caps every wait (an operator may hold
   * polls for less than the API's 60 seconds).
   */
  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    options: { applicationName?: string; maxWaitMs?: number } = {},
  ) {
    this.applicationName = options.applicationName ?? 'roundhouse-task-waker';
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
  }

  /** Connects and listens; resolves once listening, or after the first failure (it goes on trying in the background). */
  async start(): Promise<void> {
    this.unwatch = watchWaiters(() => {
      let waiting = 0;
      this.waiters.forEach((set) => (waiting += set.size));
      return waiting;
    });
    await this.connect();
  }

  subscribe(receiverId: string): TaskSubscription {
    let woken = false;
    let resolveWait: ((woke: boolean) => void) | undefined;
    const wake = (): void => {
      woken = true;
      resolveWait?.(true);
    };
    const set = this.waiters.get(receiverId) ?? new Set();
    set.add(wake);
    this.waiters.set(receiverId, set);
    const close = (): void => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(receiverId) === set) {
        this.waiters.delete(receiverId);
      }
    };
    return {
      close,
      wait: (ms, abort) =>
        woken || abort?.aborted
          ? Promise.resolve(woken)
          : new Promise<boolean>((resolve) => {
              const finish = (woke: boolean): void => {
                clearTimeout(timer);
                abort?.removeEventListener('abort', onAbort);
                resolveWait = undefined;
                resolve(woke);
              };
              const onAbort = (): void => finish(false);
              const timer = setTimeout(() => finish(false), Math.min(ms, this.maxWaitMs));
              abort?.addEventListener('abort', onAbort, { once: true });
              resolveWait = finish;
            }),
    };
  }

  /** Receivers with a long-poll waiting now (for tests and the logs). */
  waitingReceivers(): number {
    return this.waiters.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 5_000,
      application_name: this.applicationName,
    });
    client.on('notification', (message) => {
      if (message.channel === TASKS_CHANNEL && message.payload) {
        this.wake(message.payload);
      }
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${TASKS_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.failures > 0) {
      this.logger.info('task wake-ups listening again', { after: this.failures });
      // Announcements made while no connection listened are lost: every waiting poll looks again.
      this.wakeAll();
    }
    this.failures = 0;
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.closed || (this.client !== undefined && this.client !== client) || this.reconnectTimer) {
      return;
    }
    this.client = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    this.failures += 1;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
    this.logger.warn('task wake-ups not listening; reconnecting', {
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  private wake(receiverId: string): void {
    for (const wake of this.waiters.get(receiverId) ?? []) {
      wake();
    }
  }

  private wakeAll(): void {
    for (const receiverId of [...this.waiters.keys()]) {
      this.wake(receiverId);
    }
  }
}

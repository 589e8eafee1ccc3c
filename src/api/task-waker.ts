import type { PgListener } from '../db/pg-listener';
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

/**
 * Wakes long-polling clients (`GET /api/users/myself/tasks/?wait=S`) when a notification for them is stored, by any
 * process: one Postgres connection per API process LISTENs on the channel a trigger NOTIFYs, so thousands of waiting
 * clients hold no database connection each. When the connection is lost it reconnects with backoff and wakes every
 * waiter (an announcement may have been missed; a woken poll only reads the database once more).
 */
export class TaskWaker implements TaskWakeups {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listener: PgListener;
  /** Stops counting the waiters in the metrics. */
  private unwatch: () => void = () => undefined;

  private readonly maxWaitMs: number;

  /**
   * Listens on `listener` (the process's one, shared); `maxWaitMs` caps every wait (an operator may hold polls for
   * less than the API's 60 seconds).
   */
  constructor(listener: PgListener, options: { maxWaitMs?: number } = {}) {
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.listener = listener;
    listener.listen(TASKS_CHANNEL, {
      onNotification: (_channel, receiverId) => this.wake(receiverId),
      // Announcements made while no connection listened are lost: every waiting poll looks again.
      onListening: (afterGap) => {
        if (afterGap) {
          this.wakeAll();
        }
      },
      onLost: () => undefined,
    });
  }

  /** Connects and listens; resolves once listening, or after the first failure (it goes on trying in the background). */
  async start(): Promise<void> {
    this.unwatch = watchWaiters(() => {
      let waiting = 0;
      this.waiters.forEach((set) => (waiting += set.size));
      return waiting;
    });
    await this.listener.start();
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
    this.unwatch();
    await this.listener.close();
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

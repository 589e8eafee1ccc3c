import type { PgListener } from '../../db/pg-listener';
import { cacheInvalidations } from '../../metrics/metrics';

/** The channel row changes are announced on (migration 20261204100000). */
export const CHANGES_CHANNEL = 'roundhouse_changes';

/** How stale, at most, anything a cache serves may be: a change is seen this long after its commit at the latest. */
export const STALENESS_BOUND_MS = 250;

/** What a cache hears from the feed. */
export interface ChangeSubscriber {
  /** A row that `key` (`user:…`, `session:…`, `model:…`, `training:…`) names changed. */
  changed(key: string): void;
  /** Announcements may have been missed: drop everything. */
  reset(): void;
}

/** Where caches learn of changes: the process's own ones and every other process's. */
export interface Changes {
  /**
   * True while every change committed more than `STALENESS_BOUND_MS` ago has been heard: a cache may serve what it
   * holds only then, and otherwise reads the database.
   */
  fresh(): boolean;
  /** A counter that moves with every change and reset: a load that saw it move may have read a stale row. */
  readonly epoch: number;
  subscribe(subscriber: ChangeSubscriber): () => void;
  /** Resolves once every change committed before the call has been heard (or everything was dropped). */
  sync(): Promise<void>;
}

interface Settings {
  /** How often the listening connection is asked for a round trip. */
  heartbeatMs: number;
  /** How long a round trip may take before the connection is taken as lost. */
  heartbeatTimeoutMs: number;
  /** The heartbeat pauses once no cache has asked `fresh()` for this long, and resumes when one asks. */
  idleAfterMs: number;
}

const DEFAULTS: Settings = { heartbeatMs: 50, heartbeatTimeoutMs: 1_000, idleAfterMs: 5_000 };

/**
 * The API's cache invalidation (docs/architecture.md#caches): one connection per process LISTENs on the channel the
 * change triggers announce on, and asks for a round trip every `heartbeatMs`. Postgres sends a listening session
 * every notification committed before a query it answers, so an answered round trip sent at T proves every change
 * committed before T was heard: caches serve only while the last such T is within the bound (minus a heartbeat's
 * slack), so a change is never served staler than `STALENESS_BOUND_MS`, even when the connection stalls silently.
 * After a gap (lost, reconnected) every cache is dropped. `sync()` is the same round trip on demand: a process that
 * made a change waits for it before answering, and its next request sees the change at once.
 *
 * An idle process does not keep asking: once no cache has asked `fresh()` for `idleAfterMs`, the heartbeat pauses
 * (twenty round trips a second cost an idle API process about 2 % of a core, and Postgres about 1 %). The first ask
 * after a pause is answered false, so that request reads the database, and resumes the heartbeat: the caches serve
 * again once a round trip proves the feed current, a millisecond later on a healthy connection. Notifications are
 * heard and drop entries while paused all the same.
 */
export class ChangeFeed implements Changes {
  private readonly listener: PgListener;
  private readonly subscribers = new Set<ChangeSubscriber>();
  private readonly settings: Settings;
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private heartbeat: NodeJS.Timeout | undefined;
  private askedAt = Number.NEGATIVE_INFINITY;
  private started = false;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  epoch = 0;

  /** Listens on `listener` (the process's one, shared). */
  constructor(listener: PgListener, settings: Partial<Settings> = {}) {
    this.settings = { ...DEFAULTS, ...settings };
    this.listener = listener;
    listener.listen(CHANGES_CHANNEL, {
      onNotification: (_channel, key) => this.changed(key),
      onListening: () => this.dropAll(),
      onLost: () => this.dropAll(),
    });
  }

  /** Listens (resolves after the first attempt either way) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.listener.start();
    this.askedAt = performance.now();
    this.started = true;
    this.beat();
    await this.roundTrip();
  }

  fresh(): boolean {
    const now = performance.now();
    this.askedAt = now;
    if (this.heartbeat === undefined && this.started && !this.closed) {
      // Paused while idle: the last proven round trip is too old to serve by, so this one reads the database.
      this.beat();
      void this.roundTrip();
    }
    return now - this.confirmedAt < STALENESS_BOUND_MS - this.settings.heartbeatMs;
  }

  /** Whether the heartbeat runs now (it pauses while no cache asks). */
  get beating(): boolean {
    return this.heartbeat !== undefined;
  }

  subscribe(subscriber: ChangeSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  async sync(): Promise<void> {
    // A round trip already under way was sent before this call: it proves nothing about changes made since.
    await this.inFlight;
    await this.roundTrip();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.listener.close();
    this.dropAll();
  }

  /** Starts the heartbeat, which pauses itself once no cache has asked for `idleAfterMs`. */
  private beat(): void {
    this.heartbeat = setInterval(() => {
      if (performance.now() - this.askedAt > this.settings.idleAfterMs) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
        return;
      }
      void this.roundTrip();
    }, this.settings.heartbeatMs);
    this.heartbeat.unref();
  }

  /** One round trip on the listening connection; on success, everything committed before it was sent was heard. */
  private roundTrip(): Promise<void> {
    if (this.inFlight) {
      return this.inFlight;
    }
    const sentAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer to the heartbeat')), this.settings.heartbeatTimeoutMs);
    });
    const trip = Promise.race([this.listener.query('SELECT 1'), timeout]).then(
      () => {
        this.confirmedAt = Math.max(this.confirmedAt, sentAt);
      },
      (err: unknown) => {
        // Nothing is kept while unconfirmed: only the first failure after a confirmation has anything to drop.
        if (this.confirmedAt !== Number.NEGATIVE_INFINITY) {
          this.dropAll();
        }
        if (!this.closed && this.listener.listening) {
          this.listener.abandon(err instanceof Error ? err.message : String(err));
        }
      },
    );
    this.inFlight = trip.finally(() => {
      clearTimeout(timer);
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private changed(key: string): void {
    this.epoch += 1;
    cacheInvalidations.inc({ kind: 'change' });
    for (const subscriber of this.subscribers) {
      subscriber.changed(key);
    }
  }

  private dropAll(): void {
    this.epoch += 1;
    cacheInvalidations.inc({ kind: 'reset' });
    this.confirmedAt = Number.NEGATIVE_INFINITY;
    for (const subscriber of this.subscribers) {
      subscriber.reset();
    }
  }
}

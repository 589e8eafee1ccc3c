import path from 'node:path';
import { createLogger } from '../../src/logger';
import { buildUi } from '../../scripts/ui/build';
import { type EphemeralServices, startEphemeralServices } from './ephemeral-services';
import { type S3Server, startS3Server } from './s3-server';
import { TEST_ENV } from './test-env';

declare global {
  /** What globalSetup started, for globalTeardown (they share this process's globals). */
  var roundhouseTestServices: EphemeralServices | undefined;
  var roundhouseTestS3: S3Server | undefined;
}

/** History length at which the test server suggests continue-as-new (Temporal's default is 4096). */
export const TEST_CONTINUE_AS_NEW_EVENTS = 40;

/**
 * Starts one embedded Postgres, one Temporal dev server and one S3 server for the whole run, migrates the test database once,
 * builds the dashboard, and hands the addresses to the test files through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const services = await startEphemeralServices({
    database: 'roundhouse_test',
    logger: createLogger('warn', { component: 'test-setup' }),
    // Every training of more than one round continues as new in the tests: the suggestion comes after its first.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': TEST_CONTINUE_AS_NEW_EVENTS },
  });
  globalThis.roundhouseTestServices = services;
  process.env[TEST_ENV.root] = services.root;
  process.env[TEST_ENV.databaseUrl] = services.databaseUrl;
  process.env[TEST_ENV.adminDatabaseUrl] = services.pg.urlFor('postgres');
  process.env[TEST_ENV.temporalAddress] = services.temporal.address;
  process.env[TEST_ENV.temporalNamespace] = services.namespace;
  process.env[TEST_ENV.temporalCliPath] = services.cliPath;
  // An S3 server (moto) for the S3 blob store's tests.
  globalThis.roundhouseTestS3 = await startS3Server();
  process.env[TEST_ENV.s3Endpoint] = globalThis.roundhouseTestS3.endpoint;
  // The dashboard as npm run build bundles it, built from the current sources into the run's folder (not dist/, which
  // may hold an older build), so the tests serve the real assets.
  const uiDir = path.join(services.root, 'ui');
  await buildUi(uiDir);
  process.env[TEST_ENV.uiDir] = uiDir;
}

/** Names of the environment variables globalSetup uses to hand the services' addresses to test files. */
export const TEST_ENV = {
  root: 'ROUNDHOUSE_TEST_ROOT',
  databaseUrl: 'ROUNDHOUSE_TEST_DATABASE_URL',
  adminDatabaseUrl: 'ROUNDHOUSE_TEST_ADMIN_DATABASE_URL',
  temporalAddress: 'ROUNDHOUSE_TEST_TEMPORAL_ADDRESS',
  temporalNamespace: 'ROUNDHOUSE_TEST_TEMPORAL_NAMESPACE',
  temporalCliPath: 'ROUNDHOUSE_TEST_TEMPORAL_CLI_PATH',
  s3Endpoint: 'ROUNDHOUSE_TEST_S3_ENDPOINT',
  uiDir: 'ROUNDHOUSE_TEST_UI_DIR',
} as const;

/** Reads one of the variables above; fails loudly when the test runs outside the integration project. */
export function testEnv(name: keyof typeof TEST_ENV): string {
  const value = process.env[TEST_ENV[name]];
  if (!value) {
    throw new Error(`${TEST_ENV[name]} is not set: run this test in the jest "integration" project`);
  }
  return value;
}

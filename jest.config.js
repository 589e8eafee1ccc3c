/** Two projects: `unit` is pure code with no I/O; `integration` runs against the real Postgres and Temporal dev server
 * that `test/support/global-setup.ts` starts once per run. */
const transform = { '^.+\\.ts$': ['@swc/jest'] };

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  // On 2 cores jest runs every file in band, in its own process: one handle a failing test leaks (a server it never
  // got to close) would keep CI waiting until its time limit. Tests still close what they open.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      clearMocks: true,
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      clearMocks: true,
      transform,
      testMatch: [
        '<rootDir>/test/{db,api,storage,workflows,activities,replay,cli,notifications,trainings,compat,client,browser}/**/*.test.ts',
      ],
      setupFiles: ['<rootDir>/test/support/quiet-temporal.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};

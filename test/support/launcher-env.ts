import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port';
import { testEnv } from './test-env';

/** The ports a launcher of a test listens on. */
export interface LauncherPorts {
  api: number;
  pg: number;
  temporal: number;
  ui: number;
}

/**
 * The environment of a `roundhouse dev` a test starts: free ports, a temporal.yaml in `root` naming them, nothing
 * inherited from the test's own ROUNDHOUSE_, TEMPORAL_ or DATABASE_URL settings, and `overrides` over that.
 */
export async function launcherEnv(
  root: string,
  taskQueue: string,
  overrides: NodeJS.ProcessEnv = {},
): Promise<{ env: NodeJS.ProcessEnv; ports: LauncherPorts }> {
  const ports = { api: await freePort(), pg: await freePort(), temporal: await freePort(), ui: await freePort() };
  const temporalYaml = path.join(root, 'temporal.yaml');
  await fs.writeFile(
    temporalYaml,
    stringify({
      address: `127.0.0.1:${ports.temporal}`,
      namespace: 'default',
      taskQueue,
      devServer: {
        ip: '127.0.0.1',
        port: ports.temporal,
        uiPort: ports.ui,
        dbFile: 'temporal.sqlite',
        logLevel: 'error',
      },
      searchAttributes: { TrainingState: 'Keyword', TrainingRound: 'Int' },
      dynamicConfig: {},
    }),
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('ROUNDHOUSE_') && !key.startsWith('TEMPORAL_')),
  );
  delete inherited.DATABASE_URL;
  const env = {
    ...inherited,
    ROUNDHOUSE_HOST: '127.0.0.1',
    PORT: String(ports.api),
    ROUNDHOUSE_EMBEDDED_PG_PORT: String(ports.pg),
    ROUNDHOUSE_TEMPORAL_CONFIG: temporalYaml,
    TEMPORAL_CLI_PATH: testEnv('temporalCliPath'),
    // The dashboard the run's global setup built from the current sources (dist/ may hold none, or an older one).
    ROUNDHOUSE_UI_DIR: testEnv('uiDir'),
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  return { env, ports };
}

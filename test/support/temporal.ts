import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { workflowsPath } from '../../src/worker';
import { testEnv } from './test-env';

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow bundle, built once per test file (bundling takes about a second). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => process.stderr.write(`${message}\n`),
};

/** Connections and a client on the run's dev server. */
export interface TestTemporal {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  close(): Promise<void>;
}

/** Connects to the run's dev server; close it in afterAll. */
export async function connectTestTemporal(): Promise<TestTemporal> {
  const address = testEnv('temporalAddress');
  const namespace = testEnv('temporalNamespace');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    connection,
    nativeConnection,
    namespace,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** A task queue name of the test's own, so workers of different tests never take each other's tasks. */
export function uniqueTaskQueue(label: string): string {
  return `test-${label.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

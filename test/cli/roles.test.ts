import { Client, Connection } from '@temporalio/client';
import { finishProbeSignal, recordValueSignal } from '../../src/workflows/probe/definitions';
import { probeWorkflow } from '../../src/workflows/probe/probe-workflow';
import { freePort } from '../support/free-port';
import { startRole, stopRole } from '../support/role-process';
import { uniqueTaskQueue } from '../support/temporal';
import { testEnv } from '../support/test-env';

describe('roundhouse api and roundhouse worker as separate processes', () => {
  it('when pointed at an external Postgres and Temporal, the API is ready and the worker runs workflows', async () => {
    const taskQueue = uniqueTaskQueue('roles');
    const port = await freePort();
    const env = {
      ...process.env,
      DATABASE_URL: testEnv('databaseUrl'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PORT: String(port),
      ROUNDHOUSE_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const worker = await startRole('worker', env, 'worker polling');
    const api = await startRole('api', env, 'API listening');
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/api/ready/`);
      expect(ready.status).toBe(200);

      const connection = await Connection.connect({ address: testEnv('temporalAddress') });
      const handle = await new Client({ connection }).workflow.start(probeWorkflow, {
        taskQueue,
        workflowId: `roles-${taskQueue}`,
      });
      await handle.signal(recordValueSignal, 'ran on the worker role');
      await handle.signal(finishProbeSignal);
      await expect(handle.result()).resolves.toEqual(['ran on the worker role']);
      await connection.close();
    } finally {
      expect(await stopRole(api)).toBe(0);
      expect(await stopRole(worker)).toBe(0);
    }
  }, 120_000);
});

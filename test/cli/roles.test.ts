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
    const [apiMetrics, workerMetrics] = [await freePort(), await freePort()];
    const env = {
      ...process.env,
      DATABASE_URL: testEnv('databaseUrl'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PORT: String(port),
      ROUNDHOUSE_HOST: '127.0.0.1',
      ROUNDHOUSE_METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const worker = await startRole(
      'worker',
      { ...env, ROUNDHOUSE_METRICS_PORT: String(workerMetrics) },
      'metrics listening',
    );
    const api = await startRole('api', { ...env, ROUNDHOUSE_METRICS_PORT: String(apiMetrics) }, 'metrics listening');
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

      // Each role's metrics on its own port, none on the public API port.
      const scrape = async (metricsPort: number): Promise<string> => {
        const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        return await response.text();
      };
      const apiText = await scrape(apiMetrics);
      expect(apiText).toMatch(/^roundhouse_http_requests_total\{method="GET",route="\/api\/ready",status="200"\} 1$/m);
      expect(apiText).toMatch(/^roundhouse_process_resident_memory_bytes \d+/m);
      const workerText = await scrape(workerMetrics);
      expect(workerText).toMatch(/^roundhouse_process_resident_memory_bytes \d+/m);
      // Temporal Core's own: its pollers and the workflow task the probe ran.
      expect(workerText).toContain(
        `poller_type="workflow_task",service_name="temporal-core-sdk",task_queue="${taskQueue}"`,
      );
      expect(workerText).toContain(
        `poller_type="activity_task",service_name="temporal-core-sdk",task_queue="${taskQueue}-aggregation"`,
      );
      expect(workerText).toMatch(
        /^temporal_request\{namespace="default",operation="RespondWorkflowTaskCompleted".*\} \d+$/m,
      );
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${apiMetrics}/other`)).status).toBe(404);
    } finally {
      expect(await stopRole(api)).toBe(0);
      expect(await stopRole(worker)).toBe(0);
    }
  }, 120_000);
});

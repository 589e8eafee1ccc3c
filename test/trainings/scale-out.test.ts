import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { bucketStore, type TestBlobStore } from '../support/blob-stores';
import { freePort } from '../support/free-port';
import { startRole, stopRole } from '../support/role-process';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import { testEnv } from '../support/test-env';
import {
  createTraining,
  downloadVersion,
  expectedVersions,
  mlpClients,
  registerClients,
  startTraining,
  type SimulatedClient,
} from '../support/training-scenario';
import { waitFor } from '../support/wait';

/**
 * Roles on separate hosts, simulated (the recipe: scripts/scale-out/run.sh): two API processes and two workers, each
 * with an empty state directory of its own and no folder in common, sharing only DATABASE_URL, TEMPORAL_ADDRESS and
 * an S3 bucket. The clients are spread over both APIs; one worker is killed in the middle of a round.
 */
describe('roles on separate hosts', () => {
  let temporal: TestTemporal;
  let bucket: TestBlobStore;
  const stateDirs: string[] = [];
  const processes: ChildProcess[] = [];

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    bucket = await bucketStore();
  });

  afterAll(async () => {
    await Promise.all(processes.map((child) => stopRole(child)));
    await Promise.all(stateDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
    await bucket.cleanup();
    await temporal.close();
  });

  /** One role on a "host" of its own: its own empty state directory, only the shared services in common. */
  async function host(role: 'api' | 'worker', env: Record<string, string>, ready: string): Promise<ChildProcess> {
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), `roundhouse-host-${role}-`));
    stateDirs.push(stateDir);
    const child = await startRole(role, { ...process.env, ...env, ROUNDHOUSE_STATE_DIR: stateDir }, ready);
    processes.push(child);
    return child;
  }

  it('when three clients train through two APIs and a worker dies mid-round, the versions equal the engine aggregate', async () => {
    const taskQueue = uniqueTaskQueue('scale-out');
    const shared = {
      DATABASE_URL: testEnv('databaseUrl'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ROUNDHOUSE_BLOB_URL: bucket.url,
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? '',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      AWS_REGION: process.env.AWS_REGION ?? '',
      ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: 'true',
      ROUNDHOUSE_HOST: '127.0.0.1',
      ROUNDHOUSE_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    };
    const apis: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      await host('api', { ...shared, PORT: String(port) }, 'API listening');
      apis.push(`http://127.0.0.1:${port}`);
    }
    const workers = [await host('worker', shared, 'worker polling'), await host('worker', shared, 'worker polling')];
    const [first = '', second = ''] = apis;
    // Clients a and c talk to the first API, b to the second; the actor to the second.
    const specs = mlpClients();
    const onFirst = await registerClients(
      first,
      `${taskQueue}-1`,
      {},
      [specs[0], specs[2]].flatMap((s) => s ?? []),
    );
    const onSecond = await registerClients(
      second,
      `${taskQueue}-2`,
      {},
      [specs[1]].flatMap((s) => s ?? []),
    );
    const clients: SimulatedClient[] = [onFirst[0], onSecond[0], onFirst[1]].flatMap((c) => c ?? []);
    try {
      const { actorAuth, modelId, trainingId } = await createTraining(second, taskQueue, clients, 2);
      await startTraining(second, actorAuth, trainingId);
      // Mid-round: every client has been told round 1 started (round 0 aggregated); then one worker dies.
      await waitFor(
        () =>
          clients.every(
            (c) => c.receiver.received.filter((n) => n.notification_type === 'UPDATE_ROUND_START').length >= 2,
          ),
        60_000,
      );
      workers[0]?.kill('SIGKILL');
      await temporal.client.workflow.getHandle(`training-${trainingId}`).result();

      const training = await request(first).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
      expect(training.body).toMatchObject({ state: 'C' });
      clients.forEach((c) => expect(c.receiver.errors).toEqual([]));
      const expected = await expectedVersions(clients, 2);
      for (const [i, bytes] of expected.entries()) {
        // Either API serves every version: the bytes are in the bucket, not on a host.
        for (const api of apis) {
          expect((await downloadVersion(api, actorAuth, modelId, i + 1)).equals(bytes)).toBe(true);
        }
      }
      // No host wrote a blob folder of its own.
      for (const dir of stateDirs) {
        await expect(fs.access(path.join(dir, 'blobs'))).rejects.toThrow();
      }
    } finally {
      await Promise.all(clients.map((c) => c.receiver.close()));
    }
  }, 240_000);
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type Koa from 'koa';
import request from 'supertest';
import type { Knex } from 'knex';
import { createApp, type AppDeps } from '../../src/api/app';
import { postgresCheck, temporalCheck } from '../../src/api/readiness';
import { TaskWaker } from '../../src/api/task-waker';
import { PgListener } from '../../src/db/pg-listener';
import { TemporalTrainingOrchestrator } from '../../src/api/temporal-training-orchestrator';
import { createKnex } from '../../src/db/knex';
import { InferencePool } from '../../src/inference/pool';
import { embeddedDatabaseUrl } from '../../src/dev/embedded-postgres';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/auth-settings';
import { createLogger } from '../../src/logger';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { TEST_LIMITS } from '../fixtures/api-app';
import { freePort } from '../support/free-port';
import { PostgresProcess } from '../support/postgres-process';
import { connectTestTemporal, type TestTemporal } from '../support/temporal';

/** What createApp needs besides the readiness checks; these tests only call the health routes. */
function appDeps(knex: Knex, temporal: TestTemporal): Omit<AppDeps, 'readinessChecks'> {
  return {
    logger: createLogger('error'),
    auth: DEFAULT_AUTH_SETTINGS,
    dashboard: {
      assetsDir: path.join(os.tmpdir(), 'roundhouse-ready-unused'),
      temporalUiUrl: undefined,
      temporalNamespace: 'default',
    },
    knex,
    blobs: new FsBlobStore(path.join(os.tmpdir(), 'roundhouse-ready-unused')),
    limits: TEST_LIMITS,
    orchestrator: new TemporalTrainingOrchestrator(temporal.client, knex, {
      taskQueue: 'ready-unused',
      updateWaitMs: 1_000,
    }),
    // Its threads start with the first inference, which these tests never ask for.
    inference: new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1,
      maxQueued: 1,
      loadBlob: () => Promise.reject(new Error('no blobs here')),
    }),
    // Never started: these tests never long-poll.
    tasks: new TaskWaker(new PgListener('postgres://unused', createLogger('error'))),
  };
}

describe('GET /api/ready/', () => {
  let root: string;
  let postgres: PostgresProcess;
  let temporal: TestTemporal;
  let knex: ReturnType<typeof createKnex>;
  let app: Koa;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-ready-'));
    await fs.chmod(root, 0o755);
    const port = await freePort();
    // A Postgres of this test's own: stopping the run's shared one would break the other test files.
    postgres = new PostgresProcess(path.join(root, 'pg'), port);
    await postgres.start();
    temporal = await connectTestTemporal();
    knex = createKnex({ url: embeddedDatabaseUrl(port, 'postgres'), poolMax: 2 });
    app = createApp({
      ...appDeps(knex, temporal),
      readinessChecks: {
        postgres: postgresCheck(knex),
        temporal: temporalCheck(temporal.connection, temporal.namespace),
      },
    });
  });

  afterAll(async () => {
    await knex.destroy();
    await postgres.stop();
    await temporal.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('when Postgres stops, answers 503 naming it (and so does every request that needs it), and 200 again once it is back', async () => {
    const ready = await request(app.callback()).get('/api/ready/');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true } } });

    await postgres.stop();
    const down = await request(app.callback()).get('/api/ready/');
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body).toMatchObject({
      code: 'not_ready',
      detail: 'Not ready: postgres unreachable.',
      checks: { postgres: { ok: false }, temporal: { ok: true } },
    });
    // A request that needs the database is told to retry, naming what is down: never a 500.
    const needsDatabase = await request(app.callback())
      .get('/api/users/myself/')
      .set('Authorization', `Token ${'a'.repeat(40)}`);
    expect(needsDatabase).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      body: { code: 'unavailable', detail: 'The database is unavailable right now; retry shortly.' },
    });

    await postgres.start();
    const back = await request(app.callback()).get('/api/ready');
    expect(back.status).toBe(200);
  });

  it('when Temporal is unreachable, answers 503 naming it', async () => {
    const nowhere = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const isolated = createApp({
      ...appDeps(knex, temporal),
      readinessChecks: { postgres: postgresCheck(knex), temporal: temporalCheck(nowhere, temporal.namespace) },
    });
    const down = await request(isolated.callback()).get('/api/ready/');
    await nowhere.close();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      detail: 'Not ready: temporal unreachable.',
      checks: { postgres: { ok: true }, temporal: { ok: false } },
    });
  });

  it('answers GET /api/health/ with 200 whatever the dependencies say', async () => {
    await expect(request(app.callback()).get('/api/health/')).resolves.toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    await expect(request(app.callback()).get('/api/health')).resolves.toMatchObject({ status: 200 });
  });
});

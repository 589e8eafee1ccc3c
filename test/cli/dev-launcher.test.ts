import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import knexFactory from 'knex';
import { embeddedDatabaseUrl } from '../../src/dev/embedded-postgres';
import { isAlive } from '../../src/dev/process-files';
import { finishProbeSignal, probeStateQuery, recordValueSignal } from '../../src/workflows/probe/definitions';
import { probeWorkflow } from '../../src/workflows/probe/probe-workflow';
import { type LauncherPorts, launcherEnv } from '../support/launcher-env';
import { LauncherProcess } from '../support/launcher-process';

const TASK_QUEUE = 'launcher-test';

async function readPid(file: string): Promise<number> {
  return Number.parseInt((await fs.readFile(file, 'utf8')).split('\n')[0] ?? '', 10);
}

describe('roundhouse dev (npm start)', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let ports: LauncherPorts;
  let launcher: LauncherProcess;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-launcher-'));
    await fs.chmod(root, 0o755);
    ({ env, ports } = await launcherEnv(root, TASK_QUEUE, { ROUNDHOUSE_STATE_DIR: path.join(root, 'state') }));
    launcher = new LauncherProcess(env);
  });

  afterAll(async () => {
    await launcher.stop('SIGINT');
    await fs.rm(root, { recursive: true, force: true });
  });

  it('when started with nothing configured, serves the API, the dashboard and Web UI, keeps its state across restarts and leaves no process behind', async () => {
    await launcher.start();
    const api = `http://127.0.0.1:${ports.api}`;
    expect(launcher.output).toContain(`Temporal Web UI   http://127.0.0.1:${ports.ui}/namespaces/default/workflows`);
    expect((await fetch(`${api}/api/ready/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
    // The dashboard, served by the API: `/` leads there.
    expect(launcher.output).toContain(`Dashboard         ${api}/ui/`);
    const start = await fetch(`${api}/`, { redirect: 'manual' });
    expect({ status: start.status, location: start.headers.get('location') }).toEqual({
      status: 302,
      location: '/ui/',
    });
    const page = await fetch(`${api}/ui/`);
    expect({ status: page.status, type: page.headers.get('content-type') }).toEqual({
      status: 200,
      type: 'text/html; charset=utf-8',
    });

    // State: a row in Postgres and a running workflow on the launcher's own worker.
    const db = knexFactory({
      client: 'pg',
      connection: embeddedDatabaseUrl(ports.pg, 'roundhouse'),
      pool: { min: 0, max: 1 },
    });
    await db('users').insert({ username: 'survivor', token: 'a'.repeat(40) });
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const client = new Client({ connection });
    const handle = await client.workflow.start(probeWorkflow, { taskQueue: TASK_QUEUE, workflowId: 'launcher-probe' });
    await handle.signal(recordValueSignal, 'before restart');
    await expect(handle.query(probeStateQuery)).resolves.toMatchObject({ values: ['before restart'] });
    await connection.close();
    await db.destroy();

    const postgresPid = await readPid(path.join(root, 'state', 'postgres', 'postmaster.pid'));
    const temporalPid = await readPid(path.join(root, 'state', 'temporal.pid'));
    expect(await launcher.stop('SIGINT')).toBe(0);
    expect(isAlive(postgresPid)).toBe(false);
    expect(isAlive(temporalPid)).toBe(false);

    // Killed without a chance to clean up: the next start stops the leftovers and goes on.
    await launcher.start();
    const leftoverPostgres = await readPid(path.join(root, 'state', 'postgres', 'postmaster.pid'));
    const leftoverTemporal = await readPid(path.join(root, 'state', 'temporal.pid'));
    await launcher.stop('SIGKILL');
    expect(isAlive(leftoverPostgres)).toBe(true);
    await launcher.start();
    expect(isAlive(leftoverPostgres)).toBe(false);
    expect(isAlive(leftoverTemporal)).toBe(false);

    const db2 = knexFactory({
      client: 'pg',
      connection: embeddedDatabaseUrl(ports.pg, 'roundhouse'),
      pool: { min: 0, max: 1 },
    });
    expect(await db2('users').where({ username: 'survivor' })).toHaveLength(1);
    await db2.destroy();
    const connection2 = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const resumed = new Client({ connection: connection2 }).workflow.getHandle('launcher-probe');
    await resumed.signal(recordValueSignal, 'after restart');
    await resumed.signal(finishProbeSignal);
    await expect(resumed.result()).resolves.toEqual(['before restart', 'after restart']);
    await connection2.close();
    expect(await launcher.stop('SIGINT')).toBe(0);
  }, 180_000);
});

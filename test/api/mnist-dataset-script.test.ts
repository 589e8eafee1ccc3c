import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { datasetResponse, pointsResponse } from '../../src/api/routes/datasets/schemas';
import { buildApiUser, createTestApi, tokenAuth, type TestApi } from '../fixtures/api-app';

const run = promisify(execFile);

describe('npm run dataset:mnist -- --upload', () => {
  let api: TestApi;
  let server: http.Server;
  let dir: string;

  beforeAll(async () => {
    api = await createTestApi();
    server = await new Promise<http.Server>((resolve) => {
      const listening = api.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-mnist-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await api.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('when run against a server, writes the held-out set and uploads it as a dataset whose rows are the digits', async () => {
    const owner = await buildApiUser(api.knex);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const file = path.join(dir, 'heldout.safetensors');
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const script = path.resolve(__dirname, '../../scripts/datasets/mnist.ts');
    const { stdout } = await run(tsx, [script, file, '--upload', url, '--token', owner.token]);
    const dataset = datasetResponse.parse(JSON.parse(stdout.split('\n')[1] ?? ''));
    expect(dataset).toMatchObject({ name: 'mnist-heldout', rows: 1000, x_shape: [1000, 1, 28, 28], y_dtype: 'int64' });
    expect((await fs.stat(file)).size).toBeGreaterThan(1000 * 784 * 4);
    const page = await request(api.app.callback()).get(`${dataset.url}?limit=2`).set('Authorization', tokenAuth(owner));
    const points = pointsResponse.parse(page.body).points;
    // The first held-out digits are a 9 and a 0 (mnist-batch16.json), each one 1×28×28 picture.
    expect(points.map((p) => p.y)).toEqual([9, 0]);
    expect(points[0]?.x).toEqual([expect.any(Array)]);
    expect((points[0]?.x as number[][][])[0]).toHaveLength(28);
  });
});

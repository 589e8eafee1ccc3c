import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { STALENESS_BOUND_MS } from '../../src/api/cache/change-feed';
import { insertVersion } from '../../src/db/queries/models';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { fixture } from '../fixtures/onnx-edge-cases';
import { createTestKnex } from '../support/db';
import { freePort } from '../support/free-port';
import { startRole, stopRole } from '../support/role-process';
import { uniqueTaskQueue } from '../support/temporal';
import { testEnv } from '../support/test-env';

/**
 * The caches of tokens, sessions and inference models, across two `roundhouse api` processes on one database: a
 * change made through one is seen by the other within the staleness bound (each test waits for it that long, no
 * longer), and by the one that made it at once.
 */
describe('cache invalidation across API processes', () => {
  const knex = createTestKnex();
  let blobDir: string;
  interface Api {
    url: string;
    metricsUrl: string;
    process: ChildProcess;
  }
  let one: Api;
  let other: Api;

  beforeAll(async () => {
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-cache-'));
    const start = async (): Promise<Api> => {
      const [port, metricsPort] = [await freePort(), await freePort()];
      const env = {
        ...process.env,
        DATABASE_URL: testEnv('databaseUrl'),
        TEMPORAL_ADDRESS: testEnv('temporalAddress'),
        TEMPORAL_TASK_QUEUE: uniqueTaskQueue('cache'),
        ROUNDHOUSE_BLOB_DIR: blobDir,
        PORT: String(port),
        ROUNDHOUSE_HOST: '127.0.0.1',
        ROUNDHOUSE_METRICS_PORT: String(metricsPort),
        ROUNDHOUSE_METRICS_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      };
      return {
        url: `http://127.0.0.1:${port}`,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        process: await startRole('api', env, 'metrics listening'),
      };
    };
    [one, other] = await Promise.all([start(), start()]);
  });

  afterAll(async () => {
    await Promise.all([one, other].filter(Boolean).map((api) => stopRole(api.process)));
    await knex.destroy();
    await fs.rm(blobDir, { recursive: true, force: true });
  });

  let names = 0;
  async function register(extra: Record<string, unknown> = {}): Promise<{ id: string; token: string; name: string }> {
    const name = `cache-${process.pid}-${(names += 1)}`;
    const res = await fetch(`${one.url}/api/users/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: name, password: 'cache-password-1', ...extra }),
    });
    expect(res.status).toBe(201);
    return { ...((await res.json()) as { id: string; token: string }), name };
  }

  async function call(
    base: string,
    method: string,
    url: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: `Token ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** Uploads the MLP fixture as a model of `owner`, through the first process. */
  async function uploadModel(owner: { token: string }): Promise<string> {
    const form = new FormData();
    form.append('name', 'cached');
    form.append('description', 'read from a cache');
    form.append('model_file', new Blob([fixture('mlp-global-r0.onnx')]), 'model.onnx');
    const uploaded = await fetch(`${one.url}/api/models/`, {
      method: 'POST',
      headers: { Authorization: `Token ${owner.token}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    return ((await uploaded.json()) as { model_id: string }).model_id;
  }

  /** Creates a training of `modelId` by `actor` with `participant`, through the first process. */
  async function createTraining(actor: { token: string }, modelId: string, participant: { id: string }) {
    const created = await call(one.url, 'POST', '/api/trainings/', actor.token, {
      model_id: modelId,
      target_num_updates: 2,
      metric_names: [],
      aggregation_method: 'FedAvg',
      uncertainty_method: 'NONE',
      clients: [participant.id],
    });
    expect(created.status).toBe(201);
    return String(created.body.training_id);
  }

  /** A model of `owner` in a training of `owner` with `participant`: everything an inference reads. */
  async function trainingWith(
    owner: { token: string },
    participant: { id: string },
  ): Promise<{ modelId: string; trainingId: string }> {
    const modelId = await uploadModel(owner);
    return { modelId, trainingId: await createTraining(owner, modelId, participant) };
  }

  const digit = [Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => ((r * 28 + c) % 7) / 7))];
  const infer = (base: string, token: string, modelId: string) =>
    call(base, 'POST', '/api/inference/', token, { model_id: modelId, model_input: [digit] });

  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const download = (base: string, token: string, modelId: string) =>
    fetch(`${base}/api/models/${modelId}/`, { headers: { Authorization: `Token ${token}` } });

  /** How many lookups of `cache` the other process answered from memory so far. */
  async function hits(cache: string): Promise<number> {
    const text = await (await fetch(other.metricsUrl)).text();
    const line = new RegExp(`^roundhouse_cache_lookups_total\\{cache="${cache}",outcome="hit"\\} (\\d+)$`, 'm');
    return Number(line.exec(text)?.[1] ?? 0);
  }

  /**
   * Asks `probe` until `seen` holds, from `since` (just after the change was answered) up to the bound; fails past
   * it. Returns how long it took.
   */
  async function seenWithinBound<T>(
    since: number,
    probe: () => Promise<T>,
    seen: (answer: T) => boolean,
  ): Promise<number> {
    for (;;) {
      const answer = await probe();
      const elapsed = performance.now() - since;
      if (seen(answer)) {
        return elapsed;
      }
      if (elapsed > STALENESS_BOUND_MS) {
        throw new Error(`still not seen after ${elapsed.toFixed(0)} ms: ${JSON.stringify(answer)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('a rotated token is refused by the other process within the bound, and by the rotating one at once', async () => {
    const user = await register();
    // Both processes now hold the token: the second request is answered from memory.
    const before = await hits('tokens');
    for (const api of [one, other]) {
      expect((await call(api.url, 'GET', '/api/users/myself/', user.token)).status).toBe(200);
      expect((await call(api.url, 'GET', '/api/users/myself/', user.token)).status).toBe(200);
    }
    expect(await hits('tokens')).toBeGreaterThan(before);
    const rotated = await call(one.url, 'POST', '/api/auth/token/', user.token);
    expect(rotated.status).toBe(200);
    const since = performance.now();
    expect((await call(one.url, 'GET', '/api/users/myself/', user.token)).status).toBe(401);
    await seenWithinBound(
      since,
      () => call(other.url, 'GET', '/api/users/myself/', user.token),
      (answer) => answer.status === 401,
    );
    const fresh = String(rotated.body.token);
    expect((await call(other.url, 'GET', '/api/users/myself/', fresh)).status).toBe(200);
  });

  it('a participant removed from the training can no longer run its model on the other process', async () => {
    const actor = await register({ actor: true });
    const participant = await register({ client: true });
    const { modelId, trainingId } = await trainingWith(actor, participant);
    const before = await hits('inference_models');
    expect((await infer(other.url, participant.token, modelId)).status).toBe(200);
    expect((await infer(other.url, participant.token, modelId)).status).toBe(200);
    expect(await hits('inference_models')).toBeGreaterThan(before);
    const removed = await call(one.url, 'DELETE', `/api/trainings/${trainingId}/clients/`, actor.token, {
      clients: [participant.id],
    });
    expect(removed.status).toBe(200);
    const since = performance.now();
    expect((await infer(one.url, participant.token, modelId)).status).toBe(400);
    await seenWithinBound(
      since,
      () => infer(other.url, participant.token, modelId),
      (answer) => answer.status === 400 && answer.body.detail === `Model ${modelId} not found.`,
    );
    // Downloads ask the same cache: the global model is hidden from them too.
    expect((await download(other.url, participant.token, modelId)).status).toBe(404);
    // The actor still may.
    expect((await infer(other.url, actor.token, modelId)).status).toBe(200);
  });

  it('a training created for a model lets its participant run it on the other process within the bound', async () => {
    const actor = await register({ actor: true });
    const participant = await register({ client: true });
    const modelId = await uploadModel(actor);
    // The other process holds the model, with no training: the participant is a stranger to it.
    expect((await infer(other.url, actor.token, modelId)).status).toBe(200);
    expect((await infer(other.url, participant.token, modelId)).body.detail).toBe(`Model ${modelId} not found.`);
    await createTraining(actor, modelId, participant);
    await seenWithinBound(
      performance.now(),
      () => infer(other.url, participant.token, modelId),
      (answer) => answer.status === 200,
    );
  });

  it('a deleted model is not found on the other process within the bound', async () => {
    const actor = await register({ actor: true });
    const participant = await register({ client: true });
    const { modelId } = await trainingWith(actor, participant);
    expect((await infer(other.url, actor.token, modelId)).status).toBe(200);
    expect((await infer(other.url, actor.token, modelId)).status).toBe(200);
    expect((await call(one.url, 'DELETE', `/api/models/${modelId}/`, actor.token)).status).toBe(200);
    const since = performance.now();
    await seenWithinBound(
      since,
      () => infer(other.url, actor.token, modelId),
      (answer) => answer.status === 400 && answer.body.detail === `Model ${modelId} not found.`,
    );
  });

  it("a new version, written by another process (a worker's aggregation), is what the other process runs", async () => {
    const actor = await register({ actor: true });
    const participant = await register({ client: true });
    const { modelId } = await trainingWith(actor, participant);
    const before = await infer(other.url, participant.token, modelId);
    expect(before.status).toBe(200);
    expect(await infer(other.url, participant.token, modelId)).toEqual(before);
    expect((await download(other.url, participant.token, modelId)).status).toBe(200);
    // As the aggregation activity does: the new weights in the store, then the version row.
    const weights = await new FsBlobStore(blobDir).put(fixture('mlp-client-a.onnx'));
    await insertVersion(knex, modelId, 1, weights);
    const since = performance.now();
    // A client told of the new round downloads at once: the version is never taken from a cache.
    const downloaded = Buffer.from(await (await download(other.url, participant.token, modelId)).arrayBuffer());
    // Compared by digest: jest's deep equality takes seconds over 400 KB.
    expect(sha256(downloaded)).toBe(sha256(fixture('mlp-client-a.onnx')));
    const elapsed = await seenWithinBound(
      since,
      () => infer(other.url, participant.token, modelId),
      (answer) => answer.status === 200 && JSON.stringify(answer.body) !== JSON.stringify(before.body),
    );
    expect(elapsed).toBeLessThanOrEqual(STALENESS_BOUND_MS);
  });

  it('a session logged out on one process is refused by the other within the bound', async () => {
    const user = await register();
    const login = await fetch(`${one.url}/api/auth/login/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user.name, password: 'cache-password-1' }),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    const csrf = /csrftoken=([^;]+)/.exec(cookies)?.[1] ?? '';
    const asSession = (base: string) =>
      fetch(`${base}/api/users/myself/`, { headers: { Cookie: cookies } }).then((res) => res.status);
    const before = await hits('sessions');
    expect(await asSession(other.url)).toBe(200);
    expect(await asSession(other.url)).toBe(200);
    expect(await hits('sessions')).toBeGreaterThan(before);
    const out = await fetch(`${one.url}/api/auth/logout/`, {
      method: 'POST',
      headers: { Cookie: cookies, 'X-CSRFToken': csrf, Origin: one.url },
    });
    expect(out.status).toBeLessThan(300);
    const since = performance.now();
    expect(await asSession(one.url)).toBe(401);
    await seenWithinBound(
      since,
      () => asSession(other.url),
      (status) => status === 401,
    );
  });

  it('a change made while the listening connection is down is still seen within the bound', async () => {
    const user = await register();
    expect((await call(other.url, 'GET', '/api/users/myself/', user.token)).status).toBe(200);
    expect((await call(other.url, 'GET', '/api/users/myself/', user.token)).status).toBe(200);
    // Every API's feed loses its connection; the rotation's announcement goes to nobody.
    await knex.raw(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'roundhouse-listener'",
    );
    await knex('users')
      .where({ id: user.id })
      .update({ token: randomBytes(20).toString('hex') });
    const since = performance.now();
    await seenWithinBound(
      since,
      () => call(other.url, 'GET', '/api/users/myself/', user.token),
      (answer) => answer.status === 401,
    );
    // Once listening again (500 ms backoff), the cache serves again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = await hits('tokens');
    const fresh = await register();
    await call(other.url, 'GET', '/api/users/myself/', fresh.token);
    await call(other.url, 'GET', '/api/users/myself/', fresh.token);
    expect(await hits('tokens')).toBeGreaterThan(before);
  });
});

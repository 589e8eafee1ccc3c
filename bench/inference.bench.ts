import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import * as ort from 'onnxruntime-node';
import { DEFAULT_AUTH_SETTINGS } from '../src/auth/auth-settings';
import { collectBytes } from '../src/onnx/model-source';
import { createApp } from '../src/api/app';
import { TaskWaker } from '../src/api/task-waker';
import { TemporalTrainingOrchestrator } from '../src/api/temporal-training-orchestrator';
import { createKnex } from '../src/db/knex';
import { InferencePool } from '../src/inference/pool';
import { createLogger } from '../src/logger';
import { FsBlobStore } from '../src/storage/fs-blob-store';
import { fixture } from '../test/fixtures/onnx-edge-cases';
import { startEphemeralServices } from '../test/support/ephemeral-services';

/**
 * `npm run bench:inference`: latency (p50, p99) and throughput of `POST /api/inference/` for the MLP and the CNN
 * fixtures at batch 1 and 64, over real HTTP with the pool the API uses (threads and intra-op threads from the
 * options), each beside the same model run directly in this process with onnxruntime-node (the baseline: no HTTP,
 * no JSON, no pool); then the p99 of `GET /api/health/` idle and under CNN batch-64 load.
 */
const logger = createLogger('error');

interface Measured {
  p50: number;
  p99: number;
  perSecond: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '2' },
      'intra-op': { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '5' },
    },
  });
  const threads = Number(values.threads);
  const intraOp = Number(values['intra-op']);
  const concurrency = Number(values.concurrency);
  const seconds = Number(values.seconds);
  const services = await startEphemeralServices({ database: 'roundhouse_bench', logger });
  const blobRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-bench-inference-'));
  const knex = createKnex({ url: services.pg.urlFor('roundhouse_bench'), poolMax: 10 });
  const blobs = new FsBlobStore(blobRoot);
  // The real orchestrator, though no training runs here: inference never reaches it.
  const connection = await Connection.connect({ address: services.temporal.address });
  const temporal = new Client({ connection, namespace: services.namespace });
  const inference = new InferencePool({
    threads,
    intraOpNumThreads: intraOp,
    cacheBytesPerThread: 1 << 28,
    maxQueued: 1024,
    loadBlob: async (digest) => collectBytes(await blobs.read(digest)),
  });
  const app = createApp({
    logger,
    readinessChecks: {},
    knex,
    blobs,
    limits: { uploadBytes: 64 << 20, bodyBytes: 16 << 20, metricBytes: 4 << 20, datasetBytes: 1 << 20 },
    orchestrator: new TemporalTrainingOrchestrator(temporal, knex, { taskQueue: 'bench-unused', updateWaitMs: 1_000 }),
    inference,
    // No client long-polls here: wake-ups that never connect are enough.
    tasks: new TaskWaker(services.pg.urlFor('roundhouse_bench'), logger),
    auth: DEFAULT_AUTH_SETTINGS,
  });
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const token = await register(base);
    const rows: string[][] = [];
    let cnnBatch64 = '';
    for (const name of ['mlp', 'cnn']) {
      const modelId = await upload(base, token, fixture(`${name}-global-r0.onnx`));
      for (const batch of [1, 64]) {
        const body = JSON.stringify({ model_id: modelId, model_input: digits(batch) });
        const send = () => post(base, token, body);
        await send(); // warm: thread start and session
        const http = await measure(send, concurrency, seconds, batch);
        const direct = await directBaseline(fixture(`${name}-global-r0.onnx`), batch, intraOp, seconds);
        rows.push(row(`${name} batch ${batch}`, http, direct));
        if (name === 'cnn' && batch === 64) {
          cnnBatch64 = body;
        }
        process.stderr.write(`done ${name} batch ${batch}\n`);
      }
    }
    const health = () => get(`${base}/api/health/`);
    const idle = await measure(health, 1, 2, 1);
    let loading = true;
    const load = Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (loading) {
          await post(base, token, cnnBatch64);
        }
      }),
    );
    const loaded = await measure(health, 1, seconds, 1);
    loading = false;
    await load;
    printTable(rows, idle, loaded, { threads, intraOp, concurrency, seconds });
  } finally {
    server.close();
    await inference.close();
    await connection.close();
    await knex.destroy();
    await services.stop();
    await fs.rm(blobRoot, { recursive: true, force: true });
  }
}

/** `count` MNIST-shaped inputs (deterministic pseudo-digits), as nested lists [count, 1, 28, 28]. */
function digits(count: number): number[][][][] {
  return Array.from({ length: count }, (_, n) => [
    Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => Math.sin(n + r * 28 + c) * 2)),
  ]);
}

async function register(base: string): Promise<string> {
  const res = await fetch(`${base}/api/users/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function upload(base: string, token: string, model: Buffer): Promise<string> {
  const form = new FormData();
  form.append('name', 'bench');
  form.append('description', 'a benchmark model');
  form.append('model_file', new Blob([model]), 'model.onnx');
  const res = await fetch(`${base}/api/models/`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}` },
    body: form,
  });
  const body = (await res.json()) as { model_id?: string };
  if (!body.model_id) {
    throw new Error(`model upload answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.model_id;
}

async function post(base: string, token: string, body: string): Promise<void> {
  const res = await fetch(`${base}/api/inference/`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
    body,
  });
  const answer = await res.arrayBuffer();
  if (res.status !== 200) {
    throw new Error(`inference answered ${res.status}: ${Buffer.from(answer).toString('utf8')}`);
  }
}

async function get(url: string): Promise<void> {
  const res = await fetch(url);
  await res.arrayBuffer();
}

/** Runs `send` from `concurrency` loops for `seconds`; latencies in ms, throughput in samples per second. */
async function measure(
  send: () => Promise<void>,
  concurrency: number,
  seconds: number,
  samplesPerCall: number,
): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await send();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return summary(latencies, (latencies.length * samplesPerCall) / elapsed);
}

/** The same model and batch run directly with onnxruntime-node in this thread, one run after another. */
async function directBaseline(model: Buffer, batch: number, intraOp: number, seconds: number): Promise<Measured> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: intraOp });
  const input = new ort.Tensor('float32', Float32Array.from(digits(batch).flat(3)), [batch, 1, 28, 28]);
  const feeds = { [session.inputNames[0] ?? 'input']: input };
  await session.run(feeds);
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() < started + seconds * 1000) {
    const t = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  await session.release();
  return summary(latencies, (latencies.length * batch) / elapsed);
}

function summary(latencies: number[], perSecond: number): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), perSecond };
}

function row(name: string, http: Measured, direct: Measured): string[] {
  return [
    name,
    `${http.p50.toFixed(1)} ms`,
    `${http.p99.toFixed(1)} ms`,
    `${http.perSecond.toFixed(0)}/s`,
    `${direct.p50.toFixed(2)} ms`,
    `${direct.perSecond.toFixed(0)}/s`,
    (http.perSecond / direct.perSecond).toFixed(2),
  ];
}

function printTable(
  rows: string[][],
  idle: Measured,
  loaded: Measured,
  settings: { threads: number; intraOp: number; concurrency: number; seconds: number },
): void {
  const header = [
    'model',
    'HTTP p50',
    'HTTP p99',
    'HTTP samples',
    'direct p50',
    'direct samples',
    'throughput / direct',
  ];
  const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  process.stdout.write(
    [
      `Inference over HTTP (${settings.threads} pool threads, ${settings.intraOp} intra-op thread(s), ` +
        `${settings.concurrency} concurrent clients, ${settings.seconds} s each) against onnxruntime-node direct in-process`,
      ...lines,
      '',
      `GET /api/health/ p99: idle ${idle.p99.toFixed(2)} ms, under CNN batch-64 load ${loaded.p99.toFixed(2)} ms ` +
        `(ratio ${(loaded.p99 / idle.p99).toFixed(2)}; p50 ${idle.p50.toFixed(2)} → ${loaded.p50.toFixed(2)} ms)`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

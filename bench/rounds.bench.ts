import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DEFAULT_AUTH_SETTINGS } from '../src/auth/auth-settings';
import { createActivities } from '../src/activities';
import { collectBytes } from '../src/onnx/model-source';
import { createApp } from '../src/api/app';
import { TaskWaker } from '../src/api/task-waker';
import { TemporalTrainingOrchestrator } from '../src/api/temporal-training-orchestrator';
import { createKnex } from '../src/db/knex';
import { InferencePool } from '../src/inference/pool';
import { createLogger } from '../src/logger';
import { FsBlobStore } from '../src/storage/fs-blob-store';
import { trainingWorkflowId } from '../src/workflows/training/definitions';
import { workflowsPath } from '../src/worker';
import { tinyModel } from '../test/fixtures/onnx-edge-cases';
import { type EphemeralServices, startEphemeralServices } from '../test/support/ephemeral-services';
import { ClientReceiver } from '../test/support/fl-clients';

/**
 * `npm run bench:rounds` (also the last part of `npm run bench`): how long the server takes between rounds. A
 * FedAvg training runs with N simulated clients on loopback (real HTTP receivers and uploads, the API, a worker and
 * the real activities in this process, Postgres and the Temporal dev server beside it); each client "trains" for 2 s
 * after UPDATE_ROUND_START, then uploads its update and retries a 503 every 200 ms. For each round it measures
 * the time from the last update accepted (its 201) to the next round's UPDATE_ROUND_START received by the last
 * client, minus the aggregation activity's own run time (from the workflow history): the orchestration overhead a
 * round adds. N = 100 is set against N = 3 in the same run.
 */

const SIZES = [3, 100] as const;
/** How long a simulated client trains before it uploads. */
const TRAINING_MS = 2_000;
const logger = createLogger('error');

interface RoundTimes {
  /** Per round: when each client's update was accepted. */
  accepted: Map<number, number[]>;
  /** Per round: when each client received UPDATE_ROUND_START. */
  started: Map<number, number[]>;
}

function push(map: Map<number, number[]>, round: number, at: number): void {
  const list = map.get(round) ?? [];
  list.push(at);
  map.set(round, list);
}

async function post(base: string, url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(`${base}${url}`, init);
  if (res.status >= 400) {
    throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  }
  return res;
}

async function register(
  base: string,
  username: string,
  extra: Record<string, unknown>,
): Promise<{ id: string; token: string }> {
  const res = await post(base, '/api/users/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: 'pw-123456', ...extra }),
  });
  return (await res.json()) as { id: string; token: string };
}

function modelForm(fields: Record<string, string>, model: Buffer): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  form.append('model_file', new Blob([model]), 'model.onnx');
  return form;
}

/** 503 answers the clients got and retried. */
const retried = { count: 0 };

/** Retries a 503 the way an eager client does, every 200 ms (the API asks for it when the workflow cannot take the upload yet). */
async function uploadUpdate(base: string, token: string, modelId: string, round: number, model: Buffer): Promise<void> {
  for (;;) {
    const res = await fetch(`${base}/api/models/${modelId}/`, {
      method: 'POST',
      headers: { Authorization: `Token ${token}` },
      body: modelForm({ round: String(round), sample_size: '100' }, model),
    });
    if (res.status === 201) {
      return;
    }
    if (res.status !== 503) {
      throw new Error(`update refused: ${res.status} ${await res.text()}`);
    }
    retried.count += 1;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs one training of `rounds` rounds with `n` clients; returns each round's overhead in ms (aggregation excluded). */
async function measure(
  env: { base: string; client: Client },
  n: number,
  rounds: number,
): Promise<{ overheadMs: number[]; aggregationMs: number[]; notifyMs: number[]; unavailable: number }> {
  const retriedBefore = retried.count;
  const label = `${n}-${Date.now().toString(36)}`;
  const times: RoundTimes = { accepted: new Map(), started: new Map() };
  const receivers: ClientReceiver[] = [];
  const clients: string[] = [];
  const errors: unknown[] = [];
  for (let i = 0; i < n; i += 1) {
    const model = tinyModel({ kind: 'values', values: [i, 1, 2, 3] });
    const me: { token?: string } = {};
    const receiver = new ClientReceiver(async (notification) => {
      if (notification.notification_type !== 'UPDATE_ROUND_START' || !me.token) {
        return;
      }
      const round = Number(notification.body.round);
      push(times.started, round, Date.now());
      // Local training: the uploads of early clients do not compete with the notifying of later ones.
      await new Promise((resolve) => setTimeout(resolve, TRAINING_MS));
      await uploadUpdate(env.base, me.token, String(notification.body.global_model_uuid), round, model);
      push(times.accepted, round, Date.now());
    });
    receivers.push(receiver);
    const user = await register(env.base, `bench-client-${i}-${label}`, {
      client: true,
      message_endpoint: await receiver.listen(),
    });
    me.token = user.token;
    clients.push(user.id);
  }
  const actor = await register(env.base, `bench-actor-${label}`, { actor: true });
  const auth = { Authorization: `Token ${actor.token}` };
  const uploaded = await post(env.base, '/api/models/', {
    method: 'POST',
    headers: auth,
    body: modelForm({ name: 'tiny', description: 'y = x + w' }, tinyModel()),
  });
  const { model_id: modelId } = (await uploaded.json()) as { model_id: string };
  const created = await post(env.base, '/api/trainings/', {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      model_id: modelId,
      target_num_updates: rounds,
      metric_names: [],
      aggregation_method: 'FedAvg',
      uncertainty_method: 'NONE',
      options: { skip_model_tests: true },
      clients,
    }),
  });
  const { training_id: trainingId } = (await created.json()) as { training_id: string };
  await post(env.base, `/api/trainings/${trainingId}/start/`, { method: 'POST', headers: auth });
  await env.client.workflow.getHandle(trainingWorkflowId(trainingId)).result();
  await Promise.all(receivers.map((r) => r.close()));
  receivers.forEach((r) => errors.push(...r.errors));
  if (errors.length > 0) {
    throw new Error(`clients failed: ${String(errors[0])}`);
  }

  const activities = await activityTimes(env.client, trainingWorkflowId(trainingId));
  const aggregationMs: number[] = [];
  const notifyMs: number[] = [];
  activities.forEach((activity, i) => {
    if (activity.type === 'aggregateRound') {
      aggregationMs.push(activity.ms);
      // The round start that follows: the next round's notifications.
      notifyMs.push(activities.slice(i + 1).find((a) => a.type === 'sendNotifications')?.ms ?? NaN);
    }
  });
  const overheadMs: number[] = [];
  for (let round = 0; round + 1 < rounds; round += 1) {
    const lastAccepted = Math.max(...(times.accepted.get(round) ?? [NaN]));
    const lastStarted = Math.max(...(times.started.get(round + 1) ?? [NaN]));
    overheadMs.push(lastStarted - lastAccepted - (aggregationMs[round] ?? NaN));
  }
  return { overheadMs, aggregationMs, notifyMs, unavailable: retried.count - retriedBefore };
}

/** Run times (started to completed) of a training's activities, in the order they completed, across continued runs. */
async function activityTimes(client: Client, workflowId: string): Promise<{ type: string; ms: number }[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: run.runId, start: run.startTime.getTime() });
  }
  runs.sort((a, b) => a.start - b.start);
  const activities: { type: string; ms: number }[] = [];
  for (const run of runs) {
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const types = new Map<string, string>();
    const started = new Map<string, number>();
    for (const event of history.events ?? []) {
      const time = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        types.set(String(event.eventId), scheduled.activityType?.name ?? '');
      } else if (event.activityTaskStartedEventAttributes) {
        started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), time);
      } else if (event.activityTaskCompletedEventAttributes) {
        const id = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        activities.push({ type: types.get(id) ?? '', ms: time - (started.get(id) ?? time) });
      }
    }
  }
  return activities;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' } } });
  const rounds = Number(values.rounds);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const services = await startEphemeralServices({ database: 'roundhouse_bench', logger });
  let rows: string[][];
  try {
    rows = await measureAll(services, rounds);
  } finally {
    await services.stop();
  }
  const header = [
    'clients',
    'rounds',
    'overhead (median)',
    'overhead (range)',
    'notify activity (median)',
    'aggregation (median)',
    `ratio vs ${SIZES[0]}`,
    '503s retried',
  ];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  process.stdout.write('\nlast update accepted → next round notified (aggregation excluded)\n');
  for (const row of all) {
    process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`);
  }
}

/** Runs the API and a worker on the services and measures a training per size; returns the table rows. */
async function measureAll(services: EphemeralServices, rounds: number): Promise<string[][]> {
  const blobRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-bench-blobs-'));
  const knex = createKnex({ url: services.databaseUrl, poolMax: 20 });
  const connection = await Connection.connect({ address: services.temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: services.temporal.address });
  const client = new Client({ connection, namespace: services.namespace });
  const taskQueue = `bench-rounds-${Date.now().toString(36)}`;
  const blobs = new FsBlobStore(blobRoot);
  const app = createApp({
    logger,
    readinessChecks: {},
    knex,
    blobs,
    limits: { uploadBytes: 1 << 20, bodyBytes: 1 << 20, metricBytes: 4 << 20, datasetBytes: 1 << 20 },
    orchestrator: new TemporalTrainingOrchestrator(client, knex, { taskQueue, updateWaitMs: 10_000 }),
    inference: new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 28,
      maxQueued: 8,
      loadBlob: async (digest) => collectBytes(await blobs.read(digest)),
    }),
    // The bench's clients take pushes; none long-polls.
    tasks: new TaskWaker(services.databaseUrl, logger),
    auth: DEFAULT_AUTH_SETTINGS,
  });
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rows: string[][] = [];
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: services.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('ERROR') }),
    activities: createActivities({
      knex,
      blobs,
      logger,
      delivery: { timeoutMs: 5_000, attempts: 3, backoffMs: 200, concurrency: 16, allowPrivateAddresses: true },
    }),
  });
  try {
    await worker.runUntil(async () => {
      const results = new Map<number, number>();
      for (const n of SIZES) {
        const { overheadMs, aggregationMs, notifyMs, unavailable } = await measure({ base, client }, n, rounds);
        results.set(n, median(overheadMs));
        rows.push([
          String(n),
          String(rounds),
          `${median(overheadMs).toFixed(0)} ms`,
          `${Math.min(...overheadMs).toFixed(0)}–${Math.max(...overheadMs).toFixed(0)} ms`,
          `${median(notifyMs.slice(0, -1)).toFixed(0)} ms`,
          `${median(aggregationMs).toFixed(0)} ms`,
          ((results.get(n) ?? NaN) / (results.get(SIZES[0]) ?? NaN)).toFixed(2),
          String(unavailable),
        ]);
        process.stderr.write(`done ${n} clients\n`);
      }
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await knex.destroy();
    await connection.close();
    await nativeConnection.close();
    await fs.rm(blobRoot, { recursive: true, force: true });
  }
  return rows;
}

// Exits explicitly: after a failure the embedded Postgres and the Temporal runtime would keep the process alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

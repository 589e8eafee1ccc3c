import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../src/logger';
import { trainingWorkflowId } from '../src/workflows/training/definitions';
import { tinyModel } from '../test/fixtures/onnx-edge-cases';
import { type EphemeralServices, startEphemeralServices } from '../test/support/ephemeral-services';
import { freePort } from '../test/support/free-port';
import { ClientReceiver } from '../test/support/fl-clients';
import { Processes } from './support/processes';

/**
 * `npm run bench:rounds` (also the last part of `npm run bench`): how long the server takes between rounds, and how
 * it holds many trainings at once. `roundhouse api` and `roundhouse worker` run as processes of their own (Postgres
 * and the Temporal dev server beside them); this process holds the simulated clients: real HTTP receivers on
 * loopback that "train" for 2 s after UPDATE_ROUND_START, then upload their update (retrying a 503 every 200 ms).
 *
 * 1. One FedAvg training per size (`--sizes`, default 3, 100 and 1,000 clients): for each round, the time from the
 *    last update accepted (its 201) to the next round's UPDATE_ROUND_START received by the last client, minus the
 *    aggregation activity's own run time (from the workflow history): the orchestration overhead a round adds.
 * 2. `--concurrent`, default 100x10: that many trainings of that many clients each, started together; every round
 *    of every training must complete; the latency of the uploads (the accepted request, and from the first try to
 *    the accepted one) is reported at p50 and p99.
 */

/** How long a simulated client trains before it uploads. */
const TRAINING_MS = 2_000;
const logger = createLogger('error');

interface Env {
  base: string;
  client: Client;
}

/** Every upload, timed. */
interface UploadTimes {
  /** The accepted request alone, ms. */
  accepted: number[];
  /** From the first try to the accepted one (503 retries included), ms. */
  total: number[];
  /** 503 answers retried. */
  retried: number;
}

function newUploadTimes(): UploadTimes {
  return { accepted: [], total: [], retried: 0 };
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

/** Retries a 503 the way an eager client does, every 200 ms (the API asks for it when the workflow cannot take the upload yet). */
async function uploadUpdate(
  base: string,
  token: string,
  modelId: string,
  round: number,
  model: Buffer,
  times: UploadTimes,
): Promise<void> {
  const first = performance.now();
  for (;;) {
    const started = performance.now();
    const res = await fetch(`${base}/api/models/${modelId}/`, {
      method: 'POST',
      headers: { Authorization: `Token ${token}` },
      body: modelForm({ round: String(round), sample_size: '100' }, model),
    });
    if (res.status === 201) {
      await res.arrayBuffer();
      const now = performance.now();
      times.accepted.push(now - started);
      times.total.push(now - first);
      return;
    }
    if (res.status !== 503) {
      throw new Error(`update refused: ${res.status} ${await res.text()}`);
    }
    await res.arrayBuffer();
    times.retried += 1;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

/** A training of `n` simulated clients, ready to start: its receivers record when each round started for each client. */
interface PreparedTraining {
  trainingId: string;
  start(): Promise<void>;
  receivers: ClientReceiver[];
  /** Per round: when each client received UPDATE_ROUND_START, and when its update was accepted. */
  started: Map<number, number[]>;
  accepted: Map<number, number[]>;
}

function push(map: Map<number, number[]>, round: number, at: number): void {
  const list = map.get(round) ?? [];
  list.push(at);
  map.set(round, list);
}

let prepared = 0;

/** Registers `n` clients (with receivers) and an actor, uploads a model and creates the training. */
async function prepareTraining(env: Env, n: number, rounds: number, uploads: UploadTimes): Promise<PreparedTraining> {
  const label = `${n}-${(prepared += 1)}-${Date.now().toString(36)}`;
  const started = new Map<number, number[]>();
  const accepted = new Map<number, number[]>();
  const receivers: ClientReceiver[] = [];
  const clients = await inBatches(Array.from({ length: n }), 16, async (_, i) => {
    const model = tinyModel({ kind: 'values', values: [i, 1, 2, 3] });
    const me: { token?: string } = {};
    const receiver = new ClientReceiver(async (notification) => {
      if (notification.notification_type !== 'UPDATE_ROUND_START' || !me.token) {
        return;
      }
      const round = Number(notification.body.round);
      push(started, round, Date.now());
      // Local training: the uploads of early clients do not compete with the notifying of later ones.
      await new Promise((resolve) => setTimeout(resolve, TRAINING_MS));
      await uploadUpdate(env.base, me.token, String(notification.body.global_model_uuid), round, model, uploads);
      push(accepted, round, Date.now());
    });
    receivers.push(receiver);
    const user = await register(env.base, `bench-client-${i}-${label}`, {
      client: true,
      message_endpoint: await receiver.listen(),
    });
    me.token = user.token;
    return user.id;
  });
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
  return {
    trainingId,
    receivers,
    started,
    accepted,
    start: async () => {
      await post(env.base, `/api/trainings/${trainingId}/start/`, { method: 'POST', headers: auth });
    },
  };
}

/** Waits for the training's workflow to end, closes its receivers and fails on any client error. */
async function finish(env: Env, training: PreparedTraining): Promise<void> {
  await env.client.workflow.getHandle(trainingWorkflowId(training.trainingId)).result();
  await Promise.all(training.receivers.map((r) => r.close()));
  const errors = training.receivers.flatMap((r) => r.errors);
  if (errors.length > 0) {
    throw new Error(`clients failed: ${String(errors[0])}`);
  }
}

/** One training of `n` clients; each round's overhead in ms (aggregation excluded), and the round's activities. */
async function measureOne(
  env: Env,
  n: number,
  rounds: number,
): Promise<{ overheadMs: number[]; aggregationMs: number[]; notifyMs: number[]; uploads: UploadTimes }> {
  const uploads = newUploadTimes();
  const training = await prepareTraining(env, n, rounds, uploads);
  await training.start();
  await finish(env, training);
  const activities = await activityTimes(env.client, trainingWorkflowId(training.trainingId));
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
    const lastAccepted = Math.max(...(training.accepted.get(round) ?? [NaN]));
    const lastStarted = Math.max(...(training.started.get(round + 1) ?? [NaN]));
    overheadMs.push(lastStarted - lastAccepted - (aggregationMs[round] ?? NaN));
  }
  return { overheadMs, aggregationMs, notifyMs, uploads };
}

/** `trainings` trainings of `n` clients each, started together; every round of each must complete. */
async function measureConcurrent(
  env: Env,
  trainings: number,
  n: number,
  rounds: number,
): Promise<{ seconds: number; uploads: UploadTimes; rounds: number }> {
  const uploads = newUploadTimes();
  const prepared = await inBatches(Array.from({ length: trainings }), 4, () =>
    prepareTraining(env, n, rounds, uploads),
  );
  const started = performance.now();
  await Promise.all(prepared.map((training) => training.start()));
  await Promise.all(prepared.map((training) => finish(env, training)));
  const seconds = (performance.now() - started) / 1000;
  // Every round of every training: each client was told of each round and had its update accepted.
  let completed = 0;
  for (const training of prepared) {
    for (let round = 0; round < rounds; round += 1) {
      if ((training.accepted.get(round)?.length ?? 0) === n) {
        completed += 1;
      }
    }
  }
  return { seconds, uploads, rounds: completed };
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

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function printTable(title: string, rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  process.stdout.write(`\n${title}\n`);
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '6' },
      sizes: { type: 'string', default: '3,100,1000' },
      concurrent: { type: 'string', default: '100x10' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  const sizes = values.sizes.split(',').filter(Boolean).map(Number);
  const [trainings = 0, perTraining = 0] = values.concurrent === 'off' ? [] : values.concurrent.split('x').map(Number);
  const services = await startEphemeralServices({ database: 'roundhouse_bench', logger });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-bench-rounds-'));
  const processes = new Processes(root);
  const connection = await Connection.connect({ address: services.temporal.address });
  try {
    const env = await startRoles(services, path.join(root, 'blobs'), processes, connection);
    const rows: string[][] = [
      [
        'clients',
        'rounds',
        'overhead (median)',
        'overhead (max)',
        'notify activity (median)',
        'aggregation (median)',
        'upload p50',
        'upload p99',
        '503s retried',
      ],
    ];
    for (const n of sizes) {
      const { overheadMs, aggregationMs, notifyMs, uploads } = await measureOne(env, n, rounds);
      rows.push([
        String(n),
        String(rounds),
        `${median(overheadMs).toFixed(0)} ms`,
        `${Math.max(...overheadMs).toFixed(0)} ms`,
        `${median(notifyMs.slice(0, -1)).toFixed(0)} ms`,
        `${median(aggregationMs).toFixed(0)} ms`,
        `${quantile(uploads.accepted, 0.5).toFixed(1)} ms`,
        `${quantile(uploads.accepted, 0.99).toFixed(1)} ms`,
        String(uploads.retried),
      ]);
      process.stderr.write(`done ${n} clients\n`);
    }
    printTable('last update accepted → next round notified (aggregation excluded), one training at a time', rows);
    if (trainings > 0 && perTraining > 0) {
      const result = await measureConcurrent(env, trainings, perTraining, rounds);
      printTable(`${trainings} trainings of ${perTraining} clients at once, ${rounds} rounds each`, [
        [
          'rounds completed',
          'wall time',
          'accepted upload p50',
          'p99',
          'first try to accepted p50',
          'p99',
          '503s retried',
        ],
        [
          `${result.rounds} of ${trainings * rounds}`,
          `${result.seconds.toFixed(1)} s`,
          `${quantile(result.uploads.accepted, 0.5).toFixed(1)} ms`,
          `${quantile(result.uploads.accepted, 0.99).toFixed(1)} ms`,
          `${quantile(result.uploads.total, 0.5).toFixed(1)} ms`,
          `${quantile(result.uploads.total, 0.99).toFixed(1)} ms`,
          String(result.uploads.retried),
        ],
      ]);
    }
    const largest = Math.max(...sizes);
    process.stdout.write(`\n(target: round overhead under 2 s at ${largest} clients; reported, not enforced)\n`);
  } finally {
    await processes.stop();
    await connection.close();
    await services.stop();
    if (values['keep-logs']) {
      process.stderr.write(`the processes' logs are in ${root}\n`);
    } else {
      await fs.rm(root, { recursive: true, force: true });
    }
  }
}

/** `roundhouse api` and `roundhouse worker` as processes of their own on the services; the API's URL and a client. */
async function startRoles(
  services: EphemeralServices,
  blobRoot: string,
  processes: Processes,
  connection: Connection,
): Promise<Env> {
  const port = await freePort();
  const env = {
    DATABASE_URL: services.databaseUrl,
    TEMPORAL_ADDRESS: services.temporal.address,
    TEMPORAL_NAMESPACE: services.namespace,
    ROUNDHOUSE_BLOB_DIR: blobRoot,
    ROUNDHOUSE_METRICS_PORT: 'off',
    // The simulated clients listen on loopback.
    ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: 'true',
    ROUNDHOUSE_NOTIFY_TIMEOUT_SECONDS: '5',
    ROUNDHOUSE_NOTIFY_BACKOFF_SECONDS: '0.2',
    LOG_LEVEL: 'info',
  };
  await processes.role('worker', env, 'worker polling');
  await processes.role('api', { ...env, PORT: String(port), ROUNDHOUSE_HOST: '127.0.0.1' }, 'API listening');
  return { base: `http://127.0.0.1:${port}`, client: new Client({ connection, namespace: services.namespace }) };
}

// Exits explicitly: after a failure the embedded Postgres would keep the process alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

/**
 * Crash test: a FedAvg training of 3 simulated clients over real HTTP against a real Roundhouse whose processes are
 * SIGKILLed at seeded random moments (during round starts, uploads, aggregation, test rounds) and started again on
 * the same state directory. At the end the training must be completed, no accepted upload lost or counted twice,
 * and every global version bit for bit the FedAvg of the updates its round used, computed offline.
 *
 *   npm run build && npx tsx scripts/crash/run.ts [--mode dev|worker|postgres] [--rounds 6] [--kills 4] [--seed N]
 *                                                  [--timeout 360] [--outage 220] [--keep-state] [--log-level info]
 *
 * --mode dev     (default) one `roundhouse dev` (Postgres, Temporal dev server, worker, API) in its own process
 *                group; each kill SIGKILLs that whole group, and the launcher restarts on the leftover state.
 * --mode worker  a `roundhouse dev` launcher provides Postgres and Temporal (its own worker polls an idle task queue),
 *                and separate `roundhouse api` and `roundhouse worker` processes serve the training; each kill
 *                SIGKILLs only the worker process (group).
 * --mode postgres the processes of worker mode; each kill (1 by default) SIGKILLs only Postgres, during an
 *                aggregation or a round start's notifications, and starts it again after --outage seconds (220 by
 *                default: longer than activities used to retry, 150 s). The training must complete all the same.
 *
 * Exit status: 0 all checks passed; 1 a check failed; 2 bad arguments; 3 the global timeout or a setup failure.
 * On failure the server logs are copied to $CRASH_REPORT_DIR (default $TMPDIR/roundhouse-crash-reports/<stamp>).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { aggregate } from '../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../src/onnx/model-source';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/dev/embedded-postgres';
import { createLogger } from '../../src/logger';
import { seededUniform } from '../../src/seeded-random';
import { cleanEnv, freePorts, writeTemporalConfig } from '../support/throwaway-server';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = process.env.CRASH_FIXTURES ?? path.resolve(ROOT, '../shared/fixtures');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const PG_PASSWORD_URL = (port: number): string => `postgres://postgres:roundhouse@127.0.0.1:${port}/roundhouse`;
/** Attempts of one upload (network errors, 503, timeouts) before the client gives up on it. */
const MAX_ATTEMPTS = 90;
/** How often a client checks the training for a round it is missing from (its catch-up). */
const CATCH_UP_MS = 5_000;
const READY_TIMEOUT_MS = 120_000;

// --- arguments ---------------------------------------------------------------------------------------------------

function usage(message: string): never {
  process.stderr.write(
    `crash: ${message}\nusage: tsx scripts/crash/run.ts [--mode dev|worker|postgres] [--rounds N] ` +
      '[--kills K] [--seed S] [--timeout SECONDS] [--outage SECONDS] [--keep-state] ' +
      '[--log-level debug|info|warn|error]\n',
  );
  process.exit(2);
}

const { values: argv } = parseArgs({
  options: {
    mode: { type: 'string', default: 'dev' },
    rounds: { type: 'string', default: '6' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    timeout: { type: 'string' },
    outage: { type: 'string', default: '220' },
    'keep-state': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
  },
});
const MODE = argv.mode;
if (MODE !== 'dev' && MODE !== 'worker' && MODE !== 'postgres') {
  usage(`--mode must be dev, worker or postgres, not ${MODE}`);
}
/** Postgres mode: one long outage (it waits out the activities' backoff too), so fewer kills and more time. */
const OUTAGES = MODE === 'postgres';
const positive = (name: string, text: string | undefined, min = 1): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    usage(`--${name} must be an integer >= ${min}`);
  }
  return n;
};
const ROUNDS = positive('rounds', argv.rounds);
const KILLS = positive('kills', argv.kills ?? (OUTAGES ? '1' : '4'), 0);
const SEED = argv.seed === undefined ? Math.floor(Math.random() * 1_000_000) : positive('seed', argv.seed, 0);
const TIMEOUT_MS = positive('timeout', argv.timeout ?? (OUTAGES ? '720' : '360')) * 1000;
const OUTAGE_MS = positive('outage', argv.outage) * 1000;
const LOG_LEVEL = argv['log-level'] ?? 'info';
const rng = seededUniform(SEED);
const started = Date.now();

const elapsed = (at = Date.now()): string => `${((at - started) / 1000).toFixed(1)}s`;
const say = (message: string): void => void process.stderr.write(`crash [${elapsed()}] ${message}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Set once the run is over (passed, failed or timed out): loops stop, nothing new starts. */
let stopping = false;

class SetupFailure extends Error {}

// --- processes ---------------------------------------------------------------------------------------------------

/** One `roundhouse <role>` process in its own process group (setsid), its output appended to a log file. */
class Role {
  child: ChildProcess | undefined;
  starts = 0;
  private exit: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly args: string[],
    readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.starts += 1;
    const fd = fs.openSync(this.logFile, 'a');
    fs.writeSync(fd, `\n===== crash: ${this.name} start #${this.starts} at ${elapsed()} =====\n`);
    const child = spawn(process.execPath, [MAIN, ...this.args], {
      cwd: ROOT,
      env: this.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  exited(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** SIGKILLs the whole process group and waits (up to 15 s) until no process of it is left. */
  async killGroup(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) {
      return;
    }
    signalGroup(pid, 'SIGKILL');
    await Promise.race([this.exit, sleep(10_000)]);
    const deadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < deadline) {
      await sleep(50);
    }
  }

  /** Size of the log now, to wait for a line written after this point. */
  logSize(): number {
    return fs.statSync(this.logFile, { throwIfNoEntry: false })?.size ?? 0;
  }

  async waitForLog(text: string, from: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !stopping) {
      const content = fs.readFileSync(this.logFile).subarray(from).toString('utf8');
      if (content.includes(text)) {
        return true;
      }
      if (this.exited()) {
        return false;
      }
      await sleep(250);
    }
    return false;
  }

  tail(lines = 40): string {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return text.split('\n').slice(-lines).join('\n');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The embedded Postgres's postmaster (from postmaster.pid) and its children. Postgres's children start sessions of
 * their own, so killing the launcher's process group leaves them to notice their postmaster's death by themselves.
 */
function postgresFamily(dataDir: string): number[] {
  const text = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), { encoding: 'utf8', flag: 'r' });
  const postmaster = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(postmaster) || !alive(postmaster)) {
    return [];
  }
  const children = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, { encoding: 'utf8', flag: 'r' });
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === postmaster;
    })
    .map(Number);
  return [postmaster, ...children];
}

function safePostgresFamily(dataDir: string): number[] {
  try {
    return postgresFamily(dataDir);
  } catch {
    return [];
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    // The postmaster runs by its full path (…/bin/postgres); the processes it forks rename themselves `postgres: …`.
    return /^(\S*\/)?postgres\b/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

// --- HTTP ----------------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
  json: unknown;
}

async function call(
  base: string,
  method: string,
  route: string,
  options: { token?: string; json?: unknown; form?: FormData; timeoutMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) {
    headers.Authorization = `Token ${options.token}`;
  }
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, text, json };
}

async function mustCall(base: string, method: string, route: string, expect: number, options = {}): Promise<Answer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const res = await call(base, method, route, options);
      if (res.status === expect) {
        return res;
      }
      if (res.status !== 503 || attempt >= 20) {
        throw new SetupFailure(`${method} ${route} answered ${res.status} ${res.text.slice(0, 300)}`);
      }
    } catch (err) {
      if (err instanceof SetupFailure || attempt >= 20) {
        throw err;
      }
    }
    await sleep(1000);
  }
}

// --- simulated clients -----------------------------------------------------------------------------------------------

interface Notification {
  notification_type: string;
  training_uuid: string;
  body: Record<string, unknown>;
}

interface BusEvent {
  type: 'round-start' | 'upload-start' | 'last-upload' | 'test-round';
  /** The update round the event belongs to (a test round of version r belongs to update round r - 1). */
  round: number;
}

const bus = new EventEmitter();
bus.setMaxListeners(100);
/** The latest event, to say what a kill interrupted. */
let lastEvent: { event: BusEvent; at: number } | undefined;
bus.on('event', (event: BusEvent) => (lastEvent = { event, at: Date.now() }));

interface ClientSpec {
  name: string;
  file: string;
  samples: number;
}

const SPECS: ClientSpec[] = [
  { name: 'a', file: 'mlp-client-a.onnx', samples: 3000 },
  { name: 'b', file: 'mlp-client-b.onnx', samples: 2000 },
  { name: 'c', file: 'mlp-client-c.onnx', samples: 1000 },
];

/** Which clients got a 201 for an update of each round (to emit `last-upload`). */
const updatedBy = new Map<number, Set<string>>();

class SimClient {
  id = '';
  token = '';
  endpoint = '';
  trainingId = '';
  modelId = '';
  readonly model: Buffer;
  readonly pushes = new Map<string, number>();
  readonly pushedRounds = { update: new Set<number>(), test: new Set<number>() };
  readonly updatesOk = new Map<number, number>();
  readonly testsOk = new Map<number, number>();
  readonly refusals: string[] = [];
  readonly serverErrors: string[] = [];
  readonly gaveUp: string[] = [];
  readonly stats = { unavailable: 0, network: 0, catchUps: 0 };
  private readonly inflight = new Set<string>();
  private server: http.Server | undefined;

  constructor(
    readonly spec: ClientSpec,
    readonly base: string,
  ) {
    this.model = fs.readFileSync(path.join(FIXTURES, spec.file));
  }

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        res.writeHead(200).end();
        try {
          this.onPush(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification);
        } catch {
          // not a notification
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  private onPush(n: Notification): void {
    this.pushes.set(n.notification_type, (this.pushes.get(n.notification_type) ?? 0) + 1);
    if (stopping || n.training_uuid !== this.trainingId) {
      return;
    }
    const round = Number(n.body.round);
    if (n.notification_type === 'UPDATE_ROUND_START') {
      this.pushedRounds.update.add(round);
      bus.emit('event', { type: 'round-start', round } satisfies BusEvent);
      void this.deliver('update', round, 'push');
    } else if (n.notification_type === 'MODEL_TEST_ROUND') {
      this.pushedRounds.test.add(round);
      bus.emit('event', { type: 'test-round', round: round - 1 } satisfies BusEvent);
      void this.deliver('test', round, 'push');
    }
  }

  /** A real client's catch-up: a round the training lists it as missing from gets its upload now. */
  async catchUp(): Promise<void> {
    let res: Answer;
    try {
      res = await call(this.base, 'GET', `/api/trainings/${this.trainingId}/`, { token: this.token, timeoutMs: 5_000 });
    } catch {
      return;
    }
    const run = (res.json as { run?: { phase: string; round: number; missing: string[] } | null } | undefined)?.run;
    if (res.status !== 200 || !run || !run.missing.includes(this.id)) {
      return;
    }
    if (run.phase === 'UPDATE') {
      await this.deliver('update', run.round, 'catch-up');
    } else if (run.phase === 'TEST') {
      await this.deliver('test', run.round, 'catch-up');
    }
  }

  /** Uploads the update (or posts the test metrics) of `round`, retrying through outages. */
  async deliver(kind: 'update' | 'test', round: number, source: 'push' | 'catch-up'): Promise<void> {
    const key = `${kind}:${round}`;
    const done = kind === 'update' ? this.updatesOk : this.testsOk;
    if (this.inflight.has(key) || done.has(round)) {
      return;
    }
    this.inflight.add(key);
    if (source === 'catch-up') {
      this.stats.catchUps += 1;
      say(`client ${this.spec.name}: catch-up ${kind} for round ${round}`);
    }
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        if (stopping) {
          return;
        }
        if (kind === 'update') {
          bus.emit('event', { type: 'upload-start', round } satisfies BusEvent);
        }
        let res: Answer;
        try {
          res = kind === 'update' ? await this.postUpdate(round) : await this.postMetrics();
        } catch {
          this.stats.network += 1;
          await sleep(1_000 + rng() * 1_000);
          continue;
        }
        if (res.status === 201) {
          done.set(round, Date.now());
          if (kind === 'update') {
            const by = updatedBy.get(round) ?? new Set<string>();
            by.add(this.id);
            updatedBy.set(round, by);
            if (by.size === SPECS.length) {
              bus.emit('event', { type: 'last-upload', round } satisfies BusEvent);
            }
          }
          return;
        }
        if (res.status === 503) {
          this.stats.unavailable += 1;
          const after = Number(res.headers.get('retry-after'));
          await sleep(Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : 1000, 10_000));
          continue;
        }
        if (res.status >= 500) {
          this.serverErrors.push(`${elapsed()} ${key}: ${res.status} ${res.text.slice(0, 300)}`);
          await sleep(1_000);
          continue;
        }
        this.refusals.push(`${elapsed()} ${key} (${source}): ${res.status} ${res.text.slice(0, 300)}`);
        return;
      }
      this.gaveUp.push(key);
    } finally {
      this.inflight.delete(key);
    }
  }

  inflightCount(): number {
    return this.inflight.size;
  }

  private postUpdate(round: number): Promise<Answer> {
    const form = new FormData();
    form.append('round', String(round));
    form.append('sample_size', String(this.spec.samples));
    form.append('model_file', new Blob([this.model]), 'update.onnx');
    return call(this.base, 'POST', `/api/models/${this.modelId}/`, { token: this.token, form });
  }

  private postMetrics(): Promise<Answer> {
    return call(this.base, 'POST', `/api/models/${this.modelId}/metrics/`, {
      token: this.token,
      json: { metric_names: ['accuracy'], metric_values: [0.5] },
    });
  }
}

// --- the kills -------------------------------------------------------------------------------------------------------

interface KillPlan {
  trigger: BusEvent['type'];
  round: number;
  delayMs: number;
}

interface KillRecord extends KillPlan {
  at: string;
  observedRound: number;
  observed: string;
  downMs: number;
  restartMs: number;
  orphans: number;
}

function planKills(): KillPlan[] {
  // A Postgres outage starts during an aggregation (right after the last upload), a second one during a round
  // start's notifications; kills of a process come at any of the four moments, in a seeded order.
  const triggers: BusEvent['type'][] = OUTAGES
    ? ['last-upload', 'round-start']
    : ['round-start', 'upload-start', 'last-upload', 'test-round'];
  for (let i = OUTAGES ? 0 : triggers.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [triggers[i], triggers[j]] = [triggers[j]!, triggers[i]!];
  }
  const maxDelay: Record<BusEvent['type'], number> = {
    'round-start': 500,
    'upload-start': 150,
    'last-upload': 300,
    'test-round': 400,
  };
  return Array.from({ length: KILLS }, (_, i) => {
    const trigger = triggers[i % triggers.length]!;
    return {
      trigger,
      round: Math.min(ROUNDS - 1, Math.floor(((i + rng() * 0.999) * ROUNDS) / Math.max(KILLS, 1))),
      delayMs: Math.round(rng() * maxDelay[trigger]),
    };
  });
}

/** Resolves with the first event matching `plan` (false when the training ended or the run stops first). */
function nextEvent(plan: KillPlan, finished: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const onEvent = (event: BusEvent): void => {
      if (event.type === plan.trigger && event.round >= plan.round) {
        bus.off('event', onEvent);
        resolve(true);
      }
    };
    bus.on('event', onEvent);
    void finished.then(() => {
      bus.off('event', onEvent);
      resolve(false);
    });
  });
}

// --- offline FedAvg ------------------------------------------------------------------------------------------------

async function fedAvg(global: Buffer, updates: Array<{ clientId: string; samples: number; model: Buffer }>) {
  const result = await aggregate({
    method: 'FedAvg',
    global: bytesSource(global),
    updates: updates.map((u) => ({ clientId: u.clientId, sampleSize: u.samples, source: bytesSource(u.model) })),
  });
  return Buffer.from(await collectBytes(result.model));
}

// --- the run -------------------------------------------------------------------------------------------------------

interface TrainingBody {
  state: string;
  error: string | null;
  participants: string[];
  run: { phase: string; round: number; missing: string[]; left_out: Record<string, string[]> } | null;
}

async function main(): Promise<number> {
  if (!fs.existsSync(MAIN)) {
    throw new SetupFailure(`${MAIN} is missing: run \`npm run build\` first`);
  }
  for (const spec of SPECS) {
    if (!fs.existsSync(path.join(FIXTURES, spec.file))) {
      throw new SetupFailure(`fixture ${path.join(FIXTURES, spec.file)} is missing (CRASH_FIXTURES)`);
    }
  }
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roundhouse-crash-'));
  // mktemp makes it 0700; as root, the embedded Postgres runs as `postgres` and must enter it.
  await fsp.chmod(tmp, 0o755);
  const state = path.join(tmp, 'state');
  const logs = path.join(tmp, 'logs');
  await fsp.mkdir(logs);
  const [apiPort, pgPort, temporalPort, uiPort, infraApiPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const baseEnv = cleanEnv();
  Object.assign(baseEnv, {
    ROUNDHOUSE_STATE_DIR: state,
    ROUNDHOUSE_HOST: '127.0.0.1',
    ROUNDHOUSE_EMBEDDED_PG_PORT: String(pgPort),
    ROUNDHOUSE_TEMPORAL_CONFIG: await writeTemporalConfig(tmp, temporalPort, uiPort),
    ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: 'true',
    LOG_LEVEL,
  });
  const roles: Role[] = [];
  let dev: Role;
  let victim: Role;
  const base = `http://127.0.0.1:${apiPort}`;
  if (MODE === 'dev') {
    dev = new Role('dev', ['dev'], { ...baseEnv, PORT: String(apiPort) }, path.join(logs, 'dev.log'));
    victim = dev;
    roles.push(dev);
  } else {
    // Worker and postgres modes: the training's API and worker run apart from the launcher.
    // The launcher's own worker and API serve an idle task queue; the training runs on `crash-training`.
    dev = new Role(
      'dev',
      ['dev'],
      { ...baseEnv, PORT: String(infraApiPort), TEMPORAL_TASK_QUEUE: 'crash-idle' },
      path.join(logs, 'dev.log'),
    );
    const roleEnv = {
      ...baseEnv,
      DATABASE_URL: PG_PASSWORD_URL(pgPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_TASK_QUEUE: 'crash-training',
      ROUNDHOUSE_BLOB_DIR: path.join(state, 'blobs'),
    };
    const api = new Role('api', ['api'], { ...roleEnv, PORT: String(apiPort) }, path.join(logs, 'api.log'));
    const worker = new Role('worker', ['worker'], roleEnv, path.join(logs, 'worker.log'));
    // Postgres mode kills no role: the outage stops the launcher's Postgres under it.
    victim = worker;
    roles.push(dev, api, worker);
  }
  const pgData = path.join(state, 'postgres');
  const orphanPids = new Set<number>();
  const clients = SPECS.map((spec) => new SimClient(spec, base));
  const timers: NodeJS.Timeout[] = [];
  const kills: KillRecord[] = [];
  let lastTraining: TrainingBody | undefined;
  let trainingId = '';
  let result = 1;

  const waitReady = async (url: string, role: Role): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        if ((await call(url, 'GET', '/api/ready/', { timeoutMs: 5_000 })).status === 200) {
          return;
        }
      } catch {
        // not up yet
      }
      if (role.exited()) {
        throw new SetupFailure(`${role.name} exited before it was ready:\n${role.tail()}`);
      }
      if (Date.now() > deadline || stopping) {
        throw new SetupFailure(`${role.name} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${role.tail()}`);
      }
      await sleep(500);
    }
  };
  const startRole = async (role: Role): Promise<void> => {
    if (role.name === 'worker') {
      const from = role.logSize();
      role.start();
      if (!(await role.waitForLog('worker polling', from, 60_000))) {
        throw new SetupFailure(`the worker did not start polling within 60 s:\n${role.tail()}`);
      }
    } else {
      role.start();
      await waitReady(role === dev && MODE !== 'dev' ? `http://127.0.0.1:${infraApiPort}` : base, role);
    }
  };
  // Postgres mode: the Postgres this run started again after an outage (the launcher's own died with the outage).
  let restartedPostgres: RunningPostgres | undefined;

  const cleanup = async (): Promise<void> => {
    stopping = true;
    timers.forEach((t) => clearInterval(t));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    const family = safePostgresFamily(pgData);
    for (const role of [...roles].reverse()) {
      await role.killGroup();
    }
    await restartedPostgres?.stop().catch(() => undefined);
    for (const pid of [...family, ...orphanPids]) {
      if (alive(pid) && isPostgresProcess(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    if (result !== 0) {
      const reports = process.env.CRASH_REPORT_DIR ?? path.join(os.tmpdir(), 'roundhouse-crash-reports');
      const dest = path.join(reports, `${new Date().toISOString().replace(/[:.]/g, '')}-${MODE}-seed${SEED}`);
      await fsp.mkdir(dest, { recursive: true });
      await fsp.cp(logs, dest, { recursive: true }).catch(() => undefined);
      say(`server logs copied to ${dest}`);
    }
    if (argv['keep-state']) {
      say(`state kept in ${tmp}`);
    } else {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  };
  cleanups.push(cleanup);

  /** SIGKILLs every Postgres process, waits out the outage, and starts Postgres again on the same data and port. */
  const outage = async (plan: KillPlan, observed: string): Promise<KillRecord> => {
    const family = safePostgresFamily(pgData);
    const at = Date.now();
    family.forEach((pid) => signalPid(pid, 'SIGKILL'));
    const downMs = Math.round(OUTAGE_MS * (0.9 + rng() * 0.2));
    say(
      `OUTAGE ${kills.length + 1}: Postgres (${family.length} processes; trigger ${plan.trigger} round>=${plan.round} ` +
        `+${plan.delayMs}ms; ${observed}); down for ${(downMs / 1000).toFixed(0)} s`,
    );
    await sleep(downMs);
    const restartAt = Date.now();
    restartedPostgres = await startEmbeddedPostgres({
      dataDir: pgData,
      port: pgPort,
      logger: createLogger('warn', { role: 'crash-postgres' }),
    });
    say(`  Postgres back after ${((Date.now() - restartAt) / 1000).toFixed(1)} s`);
    return killRecord(plan, observed, { at, downMs, restartAt, orphans: 0 });
  };

  /** What one kill did, for the summary: when, what was seen, how long the victim was down and took to come back. */
  const killRecord = (
    plan: KillPlan,
    observed: string,
    times: { at: number; downMs: number; restartAt: number; orphans: number },
  ): KillRecord => ({
    ...plan,
    at: elapsed(times.at),
    observedRound: lastTraining?.run?.round ?? -1,
    observed,
    downMs: times.downMs,
    restartMs: Date.now() - times.restartAt,
    orphans: times.orphans,
  });

  const work = async (): Promise<number> => {
    say(`mode ${MODE}, ${ROUNDS} rounds, ${KILLS} kills, seed ${SEED}, timeout ${TIMEOUT_MS / 1000} s, state ${tmp}`);
    for (const role of roles) {
      await startRole(role);
    }
    say(`server ready on ${base}`);

    // Registration, the model, the training.
    const actor = (
      await mustCall(base, 'POST', '/api/users/', 201, {
        json: { username: 'crash-actor', password: 'pw-123456', actor: true },
      })
    ).json as { id: string; token: string };
    for (const client of clients) {
      await client.listen();
      const registered = (
        await mustCall(base, 'POST', '/api/users/', 201, {
          json: {
            username: `crash-client-${client.spec.name}`,
            password: 'pw-123456',
            client: true,
            message_endpoint: client.endpoint,
          },
        })
      ).json as { id: string; token: string };
      client.id = registered.id;
      client.token = registered.token;
    }
    const global = fs.readFileSync(path.join(FIXTURES, 'mlp-global-r0.onnx'));
    const form = new FormData();
    form.append('name', 'mlp');
    form.append('description', 'crash test MLP');
    for (const dim of ['None', '1', '28', '28']) {
      form.append('input_shape', dim);
    }
    form.append('model_file', new Blob([global]), 'model.onnx');
    const modelId = (
      (await mustCall(base, 'POST', '/api/models/', 201, { token: actor.token, form })).json as { model_id: string }
    ).model_id;
    trainingId = (
      (
        await mustCall(base, 'POST', '/api/trainings/', 201, {
          token: actor.token,
          json: {
            model_id: modelId,
            target_num_updates: ROUNDS,
            metric_names: ['accuracy'],
            aggregation_method: 'FedAvg',
            uncertainty_method: 'NONE',
            options: { round_timeout: 300, test_timeout: 300 },
            clients: clients.map((c) => c.id),
          },
        })
      ).json as { training_id: string }
    ).training_id;
    for (const client of clients) {
      client.trainingId = trainingId;
      client.modelId = modelId;
    }
    say(`training ${trainingId}, model ${modelId}; clients ${clients.map((c) => `${c.spec.name}=${c.id}`).join(' ')}`);

    // Who watches: the actor (for the end and the phase at each kill), and each client's catch-up.
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const pollActor = async (): Promise<void> => {
      try {
        const res = await call(base, 'GET', `/api/trainings/${trainingId}/`, { token: actor.token, timeoutMs: 5_000 });
        if (res.status === 200) {
          lastTraining = res.json as TrainingBody;
          if (lastTraining.state === 'C' || lastTraining.state === 'E') {
            finish();
          }
        }
      } catch {
        // the server is down
      }
    };
    let actorBusy = false;
    timers.push(
      setInterval(() => {
        if (!actorBusy && !stopping) {
          actorBusy = true;
          void pollActor().finally(() => (actorBusy = false));
        }
      }, 1_000),
    );
    for (const client of clients) {
      let busy = false;
      timers.push(
        setInterval(() => {
          if (!busy && !stopping) {
            busy = true;
            void client.catchUp().finally(() => (busy = false));
          }
        }, CATCH_UP_MS),
      );
    }

    const plans = planKills();
    say(`kill plan: ${plans.map((p) => `${p.trigger}@round>=${p.round}+${p.delayMs}ms`).join(', ') || 'none'}`);
    await mustCall(base, 'POST', `/api/trainings/${trainingId}/start/`, 202, { token: actor.token });
    say('training started');

    for (const plan of plans) {
      if (!(await nextEvent(plan, finished))) {
        break;
      }
      await sleep(plan.delayMs);
      if (stopping) {
        break;
      }
      const inflight = clients.reduce((n, c) => n + c.inflightCount(), 0);
      const recent = lastEvent
        ? `${lastEvent.event.type} ${lastEvent.event.round} ${Date.now() - lastEvent.at} ms before`
        : '-';
      const polled = lastTraining?.run
        ? `${lastTraining.run.phase} round ${lastTraining.run.round} missing ${lastTraining.run.missing.length}`
        : `state ${lastTraining?.state ?? '?'}`;
      const observed = `last poll ${polled}; last event ${recent}; ${inflight} upload(s) in flight`;
      if (OUTAGES) {
        kills.push(await outage(plan, observed));
        continue;
      }
      const family = MODE === 'dev' ? safePostgresFamily(pgData) : [];
      const at = Date.now();
      await victim.killGroup();
      const downMs = Math.round(500 + rng() * 2_500);
      say(
        `KILL ${kills.length + 1}: ${victim.name} (trigger ${plan.trigger} round>=${plan.round} +${plan.delayMs}ms; ` +
          `${observed}); down for ${downMs} ms`,
      );
      await sleep(downMs);
      const orphans = family.filter((pid) => alive(pid) && isPostgresProcess(pid));
      orphans.forEach((pid) => orphanPids.add(pid));
      if (orphans.length > 0) {
        say(
          `  ${orphans.length} Postgres process(es) of the killed launcher still alive at restart: ${orphans.join(' ')}`,
        );
      }
      const restartAt = Date.now();
      await startRole(victim);
      kills.push(killRecord(plan, observed, { at, downMs, restartAt, orphans: orphans.length }));
      say(`  ${victim.name} back after ${((Date.now() - restartAt) / 1000).toFixed(1)} s`);
    }
    await finished;
    say(`training ended in state ${lastTraining?.state}`);
    // Let the clients' last retries (503 while the workflow was away) get their answers.
    const drained = Date.now() + 30_000;
    while (clients.some((c) => c.inflightCount() > 0) && Date.now() < drained) {
      await sleep(250);
    }
    await sleep(1_000);
    stopping = true;
    timers.forEach((t) => clearInterval(t));

    return await check({ base, actor, modelId, trainingId, clients, pgPort, global });
  };

  const printSummary = (): void => {
    const lines = [
      `crash test summary: mode ${MODE}, seed ${SEED}, ${ROUNDS} rounds, training ${trainingId || '-'}, ` +
        `${elapsed()} in all`,
      `  kills done: ${kills.length} of ${KILLS} planned`,
      ...kills.map(
        (k, i) =>
          `   ${i + 1}. at ${k.at}: ${k.trigger} round>=${k.round} +${k.delayMs}ms; ${k.observed}; ` +
          `down ${k.downMs} ms, back in ${(k.restartMs / 1000).toFixed(1)} s` +
          (k.orphans ? `, ${k.orphans} Postgres orphan(s) at restart` : ''),
      ),
      ...clients.map(
        (c) =>
          `  client ${c.spec.name}: updates ok ${c.updatesOk.size}, tests ok ${c.testsOk.size}, 503s ${c.stats.unavailable}, ` +
          `network errors ${c.stats.network}, catch-ups ${c.stats.catchUps}, pushes ` +
          [...c.pushes.entries()].map(([type, n]) => `${type}=${n}`).join(' '),
      ),
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
  };

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      say(
        `FAIL: global timeout of ${TIMEOUT_MS / 1000} s; the training was last seen as ` +
          JSON.stringify(lastTraining ?? null),
      );
      for (const role of roles) {
        process.stderr.write(`--- last lines of ${role.name}.log ---\n${role.tail(25)}\n`);
      }
      resolve(3);
    }, TIMEOUT_MS);
  });
  try {
    result = await Promise.race([
      work().catch((err: unknown) => {
        if (err instanceof SetupFailure) {
          say(`FAIL (setup): ${err.message}`);
          return 3;
        }
        throw err;
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    stopping = true;
    printSummary();
  }
  return result;
}

// --- the checks ------------------------------------------------------------------------------------------------------

async function check(ctx: {
  base: string;
  actor: { id: string; token: string };
  modelId: string;
  trainingId: string;
  clients: SimClient[];
  pgPort: number;
  global: Buffer;
}): Promise<number> {
  const { base, actor, modelId, trainingId, clients } = ctx;
  const failures: string[] = [];
  const notes: string[] = [];
  const training = (await mustCall(base, 'GET', `/api/trainings/${trainingId}/`, 200, { token: actor.token }))
    .json as TrainingBody;
  if (training.state !== 'C') {
    failures.push(`the training ended in state ${training.state} (error: ${JSON.stringify(training.error)}), not C`);
  }
  if (training.participants.length !== clients.length) {
    failures.push(`the training has ${training.participants.length} participants at the end, not ${clients.length}`);
  }
  const leftOut = training.run?.left_out ?? {};
  if (Object.keys(leftOut).length > 0) {
    failures.push(`clients were left out of rounds: ${JSON.stringify(leftOut)}`);
  }

  const db = new PgClient({ connectionString: PG_PASSWORD_URL(ctx.pgPort) });
  await db.connect();
  let uploads: Array<{ round: number; client_id: string; phase: string; sample_size: number | null }>;
  let metricDupes: Array<Record<string, unknown>>;
  let failedPushes: Array<Record<string, unknown>>;
  try {
    uploads = (
      await db.query<{ round: number; client_id: string; phase: string; sample_size: number | null }>(
        'SELECT round, client_id, phase, sample_size FROM uploads WHERE training_id = $1 ORDER BY round, phase',
        [trainingId],
      )
    ).rows;
    metricDupes = (
      await db.query<Record<string, unknown>>(
        `SELECT model_id, reporter_id, step, key, count(*)::int AS n FROM metrics WHERE training_id = $1
           GROUP BY model_id, reporter_id, step, key HAVING count(*) > 1`,
        [trainingId],
      )
    ).rows;
    failedPushes = (
      await db.query<Record<string, unknown>>(
        `SELECT type, receiver_id, body, delivery_state, attempts, last_error FROM notifications
           WHERE training_id = $1 AND delivery_state NOT IN ('DELIVERED', 'PULL')`,
        [trainingId],
      )
    ).rows;
  } finally {
    await db.end();
  }
  const byName = new Map(clients.map((c) => [c.id, c]));
  const slots = new Map<string, number>();
  for (const row of uploads) {
    const key = `${row.phase} round ${row.round} client ${byName.get(row.client_id)?.spec.name ?? row.client_id}`;
    slots.set(key, (slots.get(key) ?? 0) + 1);
  }
  for (const [key, n] of slots) {
    if (n > 1) {
      failures.push(`upload counted twice: ${n} rows for ${key}`);
    }
  }
  const rowsOf = (phase: string, round: number) => uploads.filter((u) => u.phase === phase && u.round === round);
  for (const client of clients) {
    for (const round of client.updatesOk.keys()) {
      if (!rowsOf('update', round).some((u) => u.client_id === client.id)) {
        failures.push(`LOST upload: client ${client.spec.name}'s update of round ${round} got 201 but has no row`);
      }
    }
    for (const round of client.testsOk.keys()) {
      if (!rowsOf('test', round).some((u) => u.client_id === client.id)) {
        notes.push(`client ${client.spec.name}'s metrics for test round ${round} got 201 but fill no test slot`);
      }
    }
    client.gaveUp.forEach((k) =>
      failures.push(`client ${client.spec.name} gave up on ${k} after ${MAX_ATTEMPTS} tries`),
    );
    client.serverErrors.forEach((e) => failures.push(`client ${client.spec.name} got a server error: ${e}`));
    client.refusals.forEach((e) => notes.push(`client ${client.spec.name} was refused: ${e}`));
  }
  for (let round = 1; round <= ROUNDS; round += 1) {
    const tests = rowsOf('test', round);
    if (tests.length !== clients.length) {
      failures.push(`test round ${round} has ${tests.length} metrics slot(s) filled, not ${clients.length}`);
    }
  }
  const strayUpdates = uploads.filter((u) => u.phase === 'update' && u.round >= ROUNDS);
  if (strayUpdates.length > 0) {
    failures.push(`update rows beyond the last round: ${JSON.stringify(strayUpdates)}`);
  }
  if (metricDupes.length > 0) {
    failures.push(`metrics recorded more than once (model, reporter, step, key): ${JSON.stringify(metricDupes)}`);
  }
  if (failedPushes.length > 0) {
    notes.push(`notifications not delivered: ${JSON.stringify(failedPushes).slice(0, 1000)}`);
  }

  // Every version against FedAvg offline over exactly the updates its round counted.
  const rounds = (await mustCall(base, 'GET', `/api/models/${modelId}/rounds/`, 200, { token: actor.token })).json as
    Array<{ round: number }> | { results?: Array<{ round: number }> };
  const listed = (Array.isArray(rounds) ? rounds : (rounds.results ?? [])).map((r) => r.round).sort((a, b) => a - b);
  const wanted = Array.from({ length: ROUNDS + 1 }, (_, i) => i);
  if (JSON.stringify(listed) !== JSON.stringify(wanted)) {
    failures.push(`the model lists rounds ${JSON.stringify(listed)}, not 0..${ROUNDS}`);
  }
  const download = async (round: number): Promise<Buffer | undefined> => {
    const res = await call(base, 'GET', `/api/models/${modelId}/?round=${round}`, { token: actor.token });
    if (res.status !== 200) {
      failures.push(`download of version ${round} answered ${res.status}`);
      return undefined;
    }
    return res.bytes;
  };
  const v0 = await download(0);
  if (v0 && !v0.equals(ctx.global)) {
    failures.push('version 0 differs from the uploaded global model');
  }
  let expected = ctx.global;
  let uninterrupted = ctx.global;
  const all = clients.map((c) => ({ clientId: c.id, samples: c.spec.samples, model: c.model }));
  for (let round = 1; round <= ROUNDS; round += 1) {
    const counted = rowsOf('update', round - 1);
    if (counted.length !== clients.length) {
      failures.push(
        `round ${round - 1} counted ${counted.length} update(s) (${counted
          .map((u) => byName.get(u.client_id)?.spec.name)
          .join(',')}), not all ${clients.length}`,
      );
    }
    for (const row of counted) {
      const client = byName.get(row.client_id);
      if (client && row.sample_size !== client.spec.samples) {
        failures.push(`round ${round - 1}: client ${client.spec.name}'s row has sample size ${row.sample_size}`);
      }
    }
    const updates = counted.flatMap((row) => {
      const client = byName.get(row.client_id);
      return client
        ? [{ clientId: client.id, samples: row.sample_size ?? client.spec.samples, model: client.model }]
        : [];
    });
    expected = updates.length > 0 ? await fedAvg(expected, updates) : expected;
    uninterrupted = await fedAvg(uninterrupted, all);
    const got = await download(round);
    if (!got) {
      continue;
    }
    if (!got.equals(expected)) {
      failures.push(
        `version ${round} (sha256 ${sha(got).slice(0, 16)}) differs from FedAvg offline over round ${round - 1}'s ` +
          `counted updates (sha256 ${sha(expected).slice(0, 16)})` +
          (got.equals(uninterrupted) ? '' : '; nor is it the uninterrupted expectation'),
      );
    }
  }
  if (!expected.equals(uninterrupted)) {
    notes.push('the final expected model differs from an uninterrupted run (some round did not count every client)');
  }

  notes.forEach((n) => say(`note: ${n}`));
  if (failures.length > 0) {
    failures.forEach((f) => say(`FAIL: ${f}`));
    return 1;
  }
  say(
    `PASS: training ${trainingId} completed; ${ROUNDS} versions equal FedAvg offline bit for bit; ` +
      `${uploads.filter((u) => u.phase === 'update').length} update and ${uploads.filter((u) => u.phase === 'test').length} ` +
      'test slots, none lost or doubled',
  );
  return 0;
}

// --- entry -----------------------------------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
const runCleanups = (): Promise<void> =>
  (cleaning ??= (async () => {
    for (const cleanup of cleanups) {
      await cleanup().catch((err: unknown) => say(`cleanup: ${String(err)}`));
    }
  })());

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    stopping = true;
    void runCleanups().finally(() => process.exit(code));
  });
}

main().then(
  async (code) => {
    await runCleanups();
    process.exit(code);
  },
  async (err: unknown) => {
    say(`FAIL (crash test error): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await runCleanups();
    process.exit(3);
  },
);

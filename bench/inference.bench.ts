import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/logger';
import { fixture } from '../test/fixtures/onnx-edge-cases';
import { startEphemeralServices } from '../test/support/ephemeral-services';
import { freePort } from '../test/support/free-port';
import type { LoadOptions, LoadResult } from './http/load';
import { ensureVenv } from './python-venv';
import { Processes, runJsonScript } from './support/processes';

/**
 * `npm run bench:inference`: the API's hot path measured from outside. `roundhouse api` runs as a process of its own
 * (Postgres and the Temporal dev server beside it, token authentication, default logging); autocannon drives it
 * from other processes (bench/http/load.ts). For the MLP and the CNN at batch 1 and 64 it reports the latency of
 * sequential requests on one keep-alive connection (p50, p99, and the CPU time the server's process spends per request
 * there, all its threads counted: the Python server's onnxruntime threads spin between runs, which buys latency with
 * a core) and the throughput with 16 connections, beside onnxruntime-node called directly in a plain process on the
 * same input (bench/http/direct-onnx.ts), beside the HTTP floor (a server that only reads the same bodies over the
 * same connections: bench/http/floor-server.ts), and beside a FastAPI server with Python's onnxruntime serving the
 * same model (bench/http/python_server.py, installed into its own virtual environment). Then the p99 of
 * `GET /api/health/` from a third process while inference, model downloads and model uploads (100 concurrent clients
 * each) load the API. Each case runs in rounds where the servers and the baselines take turns, and reports each
 * figure's median. Targets are printed, never enforced.
 */

const TOKEN_HEADER = 'Authorization';
const logger = createLogger('error');

interface Case {
  model: 'mlp' | 'cnn';
  batch: number;
  /** How `model_input` is sent: nested JSON lists, or little-endian float32 in base64 with its `shape`. */
  encoding: 'json' | 'base64';
}

const CASES: readonly Case[] = [
  { model: 'mlp', batch: 1, encoding: 'json' },
  { model: 'cnn', batch: 1, encoding: 'json' },
  { model: 'mlp', batch: 64, encoding: 'json' },
  { model: 'cnn', batch: 64, encoding: 'json' },
  { model: 'mlp', batch: 64, encoding: 'base64' },
  { model: 'cnn', batch: 64, encoding: 'base64' },
];

/** `model_input` (and `shape`) of a request body in the case's encoding. */
function modelInput(input: number[][][][], encoding: Case['encoding']): Record<string, unknown> {
  if (encoding === 'json') {
    return { model_input: input };
  }
  const values = Float32Array.from(input.flat(3));
  return {
    model_input: Buffer.from(values.buffer).toString('base64'),
    shape: [input.length, 1, 28, 28],
  };
}

interface Settings {
  seconds: number;
  /** Rounds of each case, each server measured once a round; the report gives each figure's median. */
  rounds: number;
  threads: number;
  connections: number;
  python: boolean;
  only: string | undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '16' },
      'no-python': { type: 'boolean', default: false },
      // Only the cases whose name holds this ("mlp batch 1", "base64"), and no health rows: for working on one.
      only: { type: 'string' },
    },
  });
  const settings: Settings = {
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    threads: Number(values.threads),
    connections: Number(values.connections),
    python: !values['no-python'],
    only: values.only,
  };
  if (!Number.isInteger(settings.rounds) || settings.rounds < 1) {
    throw new Error(`--rounds must be a whole number of at least 1, not ${String(values.rounds)}`);
  }
  const python = settings.python ? ensureVenv(path.join(__dirname, 'http', 'requirements.txt')) : undefined;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-bench-inference-'));
  const services = await startEphemeralServices({ database: 'roundhouse_bench', logger });
  const processes = new Processes(dir);
  try {
    const { base: api, pid: apiPid } = await startApi(services, dir, settings, processes);
    const token = await register(api);
    const modelIds = {
      mlp: await uploadModel(api, token, fixture('mlp-global-r0.onnx')),
      cnn: await uploadModel(api, token, fixture('cnn-global-r0.onnx')),
    };
    const floor = await startFloor(processes);
    const py = python ? await startPython(python, dir, token, processes) : undefined;
    const rows: Row[] = [];
    const caseName = (c: Case): string =>
      `${c.model} batch ${c.batch}${c.encoding === 'json' ? '' : ` (${c.encoding} float32)`}`;
    for (const c of CASES.filter((each) => settings.only === undefined || caseName(each).includes(settings.only))) {
      const input = digits(c.batch);
      const inputFile = path.join(dir, `input-${c.model}-${c.batch}.json`);
      await fs.writeFile(inputFile, JSON.stringify(input));
      const name = `${c.model}-${c.batch}-${c.encoding}`;
      const rhBody = await writeBody(dir, `rh-${name}`, {
        model_id: modelIds[c.model],
        ...modelInput(input, c.encoding),
      });
      const request = (base: string, url: string, bodyFile: string): Omit<LoadOptions, 'connections' | 'seconds'> => ({
        url: `${base}${url}`,
        method: 'POST',
        headers: { [TOKEN_HEADER]: `Token ${token}`, 'Content-Type': 'application/json' },
        bodyFile,
        warmupSeconds: 1,
      });
      const rh = request(api, '/api/inference/', rhBody);
      const pyRequest = py
        ? request(py.base, `/inference/${c.model}`, await writeBody(dir, `py-${name}`, modelInput(input, c.encoding)))
        : undefined;
      // Rounds that take turns, each server and the direct baseline once a round, and the median of each figure:
      // this machine's speed drifts by 15% or more over a minute, which would otherwise decide a comparison. A ratio
      // is the median of each round's own ratio, between figures measured seconds apart (direct onnxruntime alone
      // varied by 24% between two cases' medians of the same model and input in one run).
      const rounds: Array<Omit<Row, 'name' | 'batch' | 'ratios'>> = [];
      for (let round = 0; round < settings.rounds; round++) {
        // A case's first requests also measure its kind and create its sessions (src/inference/pool.ts): longer.
        const settle = round === 0 ? { warmupSeconds: 3 } : {};
        const measured: (typeof rounds)[number] = {
          rhLatency: await load({ ...rh, ...settle, connections: 1, seconds: settings.seconds, serverPid: apiPid }),
          rhThroughput: await load({ ...rh, connections: settings.connections, seconds: settings.seconds }),
          direct: await direct(fixture(`${c.model}-global-r0.onnx`), dir, c.model, inputFile, settings),
          floor: await load({
            ...request(floor.base, '/', rhBody),
            connections: settings.connections,
            seconds: settings.seconds,
            serverPid: floor.pid,
          }),
        };
        if (py && pyRequest) {
          const latency = { ...pyRequest, ...settle, connections: 1, seconds: settings.seconds, serverPid: py.pid };
          measured.pyLatency = await load(latency);
          measured.pyThroughput = await load({
            ...pyRequest,
            connections: settings.connections,
            seconds: settings.seconds,
          });
        }
        rounds.push(measured);
      }
      const throughputRatio = (round: (typeof rounds)[number]): number =>
        (round.rhThroughput.perSecond * c.batch) / round.direct.perSecond;
      const row: Row = {
        name: caseName(c),
        batch: c.batch,
        rhLatency: medianResult(rounds.map((each) => each.rhLatency)),
        rhThroughput: medianResult(rounds.map((each) => each.rhThroughput)),
        direct: {
          p50: median(rounds.map((each) => each.direct.p50)),
          p99: median(rounds.map((each) => each.direct.p99)),
          perSecond: median(rounds.map((each) => each.direct.perSecond)),
          oneCorePerSecond: median(rounds.map((each) => each.direct.oneCorePerSecond)),
        },
        floor: medianResult(rounds.map((each) => each.floor)),
        ratios: {
          direct: median(rounds.map(throughputRatio)),
          floor: median(rounds.map((each) => (each.floor.perSecond * c.batch) / each.direct.perSecond)),
          ceiling: median(rounds.map((each) => ceiling(each, c.batch) / each.direct.perSecond)),
        },
      };
      if (py) {
        row.pyLatency = medianResult(rounds.flatMap((each) => (each.pyLatency ? [each.pyLatency] : [])));
        row.pyThroughput = medianResult(rounds.flatMap((each) => (each.pyThroughput ? [each.pyThroughput] : [])));
        row.ratios.python = median(
          rounds.flatMap((each) =>
            each.pyThroughput ? [each.rhThroughput.perSecond / each.pyThroughput.perSecond] : [],
          ),
        );
      }
      rows.push(row);
      const each = (pick: (round: (typeof rounds)[number]) => LoadResult | undefined): string =>
        rounds.map((round) => pick(round)?.p50.toFixed(2) ?? '–').join(' ');
      process.stderr.write(
        `done ${row.name}: p50 by round, roundhouse ${each((round) => round.rhLatency)}, python ` +
          `${each((round) => round.pyLatency)}; throughput / direct by round ` +
          `${rounds.map((round) => throughputRatio(round).toFixed(2)).join(' ')}\n`,
      );
    }

    if (settings.only !== undefined) {
      printReport(rows, undefined, [], settings);
      return;
    }
    // GET /api/health/ from a third process, alone and beside each load.
    const health: LoadOptions = { url: `${api}/api/health/`, connections: 1, seconds: settings.seconds };
    const idle = await load({ ...health, warmupSeconds: 1 });
    const beside = async (
      what: string,
      loadOptions: LoadOptions,
    ): Promise<{ what: string; health: LoadResult; load: LoadResult }> => {
      // The load starts first and runs a second longer on each side, so health is measured under it throughout.
      const running = load({ ...loadOptions, seconds: settings.seconds + 2 });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const measured = await load(health);
      return { what, health: measured, load: await running };
    };
    const cnn64 = path.join(dir, 'rh-cnn-64-json.json');
    const auth = { [TOKEN_HEADER]: `Token ${token}` };
    const upload = await writeMultipart(dir, fixture('mlp-global-r0.onnx'));
    const loaded = [
      await beside(`CNN batch 64 inference, ${settings.connections} connections`, {
        url: `${api}/api/inference/`,
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        bodyFile: cnn64,
        connections: settings.connections,
        seconds: 0,
      }),
      await beside('MLP model download, 100 connections', {
        url: `${api}/api/models/${modelIds.mlp}/`,
        headers: auth,
        connections: 100,
        seconds: 0,
      }),
      await beside('MLP model upload, 100 connections', {
        url: `${api}/api/models/`,
        method: 'POST',
        headers: { ...auth, 'Content-Type': upload.contentType },
        bodyFile: upload.file,
        connections: 100,
        seconds: 0,
      }),
    ];
    printReport(rows, idle, loaded, settings);
  } finally {
    await processes.stop();
    await services.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface Row {
  name: string;
  batch: number;
  rhLatency: LoadResult;
  rhThroughput: LoadResult;
  /** The fastest p50, the most samples a second (either thread count), and the samples a second on one core. */
  direct: { p50: number; p99: number; perSecond: number; oneCorePerSecond: number };
  /** The HTTP floor server's answers with the same body and connections (bench/http/floor-server.ts). */
  floor: LoadResult;
  pyLatency?: LoadResult;
  pyThroughput?: LoadResult;
  /**
   * Roundhouse's, the floor's and the ceiling's (`ceiling`) throughput over direct onnxruntime's, Roundhouse's over
   * Python's: medians by round.
   */
  ratios: { direct: number; floor: number; ceiling: number; python?: number };
}

/**
 * The most samples a second any server in Node.js could answer over HTTP here: every core spent on nothing but what
 * each request must cost, the model's run on one core (direct onnxruntime's), the floor server's reading of the body
 * and answering, and the load generator's own sending and reading on the same cores. Direct onnxruntime spends the
 * cores on the run alone; when the rest costs more than a quarter of the run, 0.8 of it is out of reach.
 */
function ceiling(round: Omit<Row, 'name' | 'batch' | 'ratios'>, batch: number): number {
  const runMs = (1000 * batch) / round.direct.oneCorePerSecond;
  const requestMs = runMs + (round.floor.serverCpuMs ?? 0) + round.floor.clientCpuMs;
  return ((os.availableParallelism() * 1000) / requestMs) * batch;
}

/** A server the benchmark started: its base URL, and its process, whose CPU time is measured. */
interface Server {
  base: string;
  pid: number;
}

/** `roundhouse api` in a process of its own, as deployed: resolves once it listens. */
async function startApi(
  services: Awaited<ReturnType<typeof startEphemeralServices>>,
  dir: string,
  settings: Settings,
  processes: Processes,
): Promise<Server> {
  const port = await freePort();
  const child = await processes.role(
    'api',
    {
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporal.address,
      TEMPORAL_NAMESPACE: services.namespace,
      ROUNDHOUSE_BLOB_DIR: path.join(dir, 'blobs'),
      PORT: String(port),
      ROUNDHOUSE_HOST: '127.0.0.1',
      ROUNDHOUSE_METRICS_PORT: 'off',
      ROUNDHOUSE_INFERENCE_THREADS: String(settings.threads),
      ROUNDHOUSE_INFERENCE_INTRA_OP_THREADS: '1',
      LOG_LEVEL: 'info',
    },
    'API listening',
  );
  return { base: `http://127.0.0.1:${port}`, pid: pidOf(child) };
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) {
    throw new Error('a server process has no pid');
  }
  return child.pid;
}

/** The HTTP floor server: reads bodies, answers a small JSON; resolves once it listens. */
async function startFloor(processes: Processes): Promise<Server> {
  const port = await freePort();
  const script = path.join(__dirname, 'http', 'floor-server.ts');
  const child = await processes.start(process.execPath, ['--import', 'tsx', script, String(port)], {
    readyText: 'listening',
  });
  return { base: `http://127.0.0.1:${port}`, pid: pidOf(child) };
}

/** The FastAPI server on both models; resolves once it answers. */
async function startPython(python: string, dir: string, token: string, processes: Processes): Promise<Server> {
  const port = await freePort();
  const models: string[] = [];
  for (const name of ['mlp', 'cnn']) {
    const file = path.join(dir, `${name}.onnx`);
    await fs.writeFile(file, fixture(`${name}-global-r0.onnx`));
    models.push(`${name}=${file}`);
  }
  const child = await processes.start(
    python,
    [path.join(__dirname, 'http', 'python_server.py'), String(port), token, ...models],
    {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the Python server exited with ${child.exitCode}`);
    }
    const ok = await fetch(`${base}/health`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) {
      return { base, pid: pidOf(child) };
    }
    if (Date.now() > until) {
      throw new Error('the Python server did not answer within a minute');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Each figure's median over rounds; failures added up. */
function medianResult(results: readonly LoadResult[]): LoadResult {
  const cpu = results.flatMap((each) => (each.serverCpuMs === undefined ? [] : [each.serverCpuMs]));
  const failure = results.find((each) => each.firstFailure !== undefined)?.firstFailure;
  return {
    requests: median(results.map((each) => each.requests)),
    perSecond: median(results.map((each) => each.perSecond)),
    p50: median(results.map((each) => each.p50)),
    p99: median(results.map((each) => each.p99)),
    failed: results.reduce((sum, each) => sum + each.failed, 0),
    ...(failure === undefined ? {} : { firstFailure: failure }),
    ...(cpu.length > 0 ? { serverCpuMs: median(cpu) } : {}),
    clientCpuMs: median(results.map((each) => each.clientCpuMs)),
  };
}

async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await runJsonScript<LoadResult>(path.join(__dirname, 'http', 'load.ts'), options);
  if (result.failed > 0) {
    process.stderr.write(
      `warning: ${result.failed} failed answers to ${options.method ?? 'GET'} ${options.url} (first ${String(result.firstFailure)})\n`,
    );
  }
  return result;
}

/** onnxruntime-node direct, with one intra-op thread (as a pool thread) and with one per core; the faster of each. */
async function direct(
  model: Buffer,
  dir: string,
  name: string,
  inputFile: string,
  settings: Settings,
): Promise<Row['direct']> {
  const file = path.join(dir, `${name}-direct.onnx`);
  await fs.writeFile(file, model);
  const runs: Array<Omit<Row['direct'], 'oneCorePerSecond'>> = [];
  for (const intraOp of [1, os.availableParallelism()]) {
    runs.push(
      await runJsonScript<Omit<Row['direct'], 'oneCorePerSecond'>>(path.join(__dirname, 'http', 'direct-onnx.ts'), {
        model: file,
        inputFile,
        intraOpNumThreads: intraOp,
        seconds: settings.seconds,
      }),
    );
  }
  // The floor for latency is the fastest p50, for throughput the most samples a second.
  const fastest = runs.reduce((a, b) => (b.p50 < a.p50 ? b : a));
  const most = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  return { p50: fastest.p50, p99: fastest.p99, perSecond: most.perSecond, oneCorePerSecond: runs[0]!.perSecond };
}

async function writeBody(dir: string, name: string, body: unknown): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await fs.writeFile(file, JSON.stringify(body));
  return file;
}

/** A model upload's multipart body, as a file with its Content-Type. */
async function writeMultipart(dir: string, model: Buffer): Promise<{ file: string; contentType: string }> {
  const form = new FormData();
  form.append('name', 'bench upload');
  form.append('description', 'an upload under load');
  form.append('model_file', new Blob([model]), 'model.onnx');
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  const file = path.join(dir, 'upload.multipart');
  await fs.writeFile(file, Buffer.from(await request.arrayBuffer()));
  return { file, contentType: request.headers.get('content-type') ?? '' };
}

/** `count` MNIST-shaped inputs (deterministic pseudo-digits), as nested lists [count, 1, 28, 28]. */
function digits(count: number): number[][][][] {
  return Array.from({ length: count }, (_, n) => [
    Array.from({ length: 28 }, (_, r) =>
      Array.from({ length: 28 }, (_, c) => Math.round(Math.sin(n + r * 28 + c) * 2e4) / 1e4),
    ),
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

async function uploadModel(base: string, token: string, model: Buffer): Promise<string> {
  const form = new FormData();
  form.append('name', 'bench');
  form.append('description', 'a benchmark model');
  form.append('model_file', new Blob([model]), 'model.onnx');
  const res = await fetch(`${base}/api/models/`, {
    method: 'POST',
    headers: { [TOKEN_HEADER]: `Token ${token}` },
    body: form,
  });
  const body = (await res.json()) as { model_id?: string };
  if (!body.model_id) {
    throw new Error(`model upload answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.model_id;
}

function printReport(
  rows: readonly Row[],
  idle: LoadResult | undefined,
  loaded: ReadonlyArray<{ what: string; health: LoadResult; load: LoadResult }>,
  settings: Settings,
): void {
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  const ms = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(2));
  const rate = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(0));
  out();
  out(
    `Inference over HTTP, measured from other processes (${os.availableParallelism()} cores; roundhouse api with ` +
      `${settings.threads} inference threads, token auth; latency: 1 keep-alive connection, sequential; ` +
      `throughput: ${settings.connections} connections; ${settings.seconds} s each; medians of ${settings.rounds} ` +
      `rounds taking turns, a ratio the median of the rounds' ratios)`,
  );
  out();
  const header = [
    'case',
    'roundhouse p50 ms',
    'p99 ms',
    'samples/s',
    'direct ort p50 ms',
    'direct samples/s',
    'python p50 ms',
    'python p99 ms',
    'python samples/s',
    'server CPU ms/request: roundhouse / python',
    'throughput / direct',
    'HTTP floor / direct',
    'ceiling / direct',
    'throughput / python',
  ];
  const table = rows.map((row) => [
    row.name,
    ms(row.rhLatency.p50),
    ms(row.rhLatency.p99),
    rate(row.rhThroughput.perSecond * row.batch),
    ms(row.direct.p50),
    rate(row.direct.perSecond),
    ms(row.pyLatency?.p50),
    ms(row.pyLatency?.p99),
    rate(row.pyThroughput && row.pyThroughput.perSecond * row.batch),
    `${ms(row.rhLatency.serverCpuMs)} / ${ms(row.pyLatency?.serverCpuMs)}`,
    row.ratios.direct.toFixed(2),
    row.ratios.floor.toFixed(2),
    row.ratios.ceiling.toFixed(2),
    row.ratios.python === undefined ? '–' : row.ratios.python.toFixed(2),
  ]);
  for (const cells of [header, header.map(() => '---'), ...table]) {
    out(`| ${cells.join(' | ')} |`);
  }
  out();
  if (idle) {
    out(`GET /api/health/ from a third process, 1 connection: idle p50 ${ms(idle.p50)} ms, p99 ${ms(idle.p99)} ms`);
  }
  for (const { what, health, load: under } of loaded) {
    out(
      `  beside ${what} (${rate(under.perSecond)}/s answered, p50 ${ms(under.p50)} ms, p99 ${ms(under.p99)} ms` +
        `${under.failed > 0 ? `, ${under.failed} failed` : ''}): health p50 ${ms(health.p50)} ms, p99 ${ms(health.p99)} ms`,
    );
  }
  out();
  const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  const find = (name: string): Row | undefined => rows.find((row) => row.name === name);
  const mlp1 = find('mlp batch 1');
  const cnn1 = find('cnn batch 1');
  if (mlp1) {
    out(`${verdict(mlp1.rhLatency.p50 < 1.5)} MLP batch 1 p50 ${ms(mlp1.rhLatency.p50)} ms < 1.5 ms`);
  }
  if (cnn1) {
    out(`${verdict(cnn1.rhLatency.p50 < 2)} CNN batch 1 p50 ${ms(cnn1.rhLatency.p50)} ms < 2 ms`);
  }
  for (const row of rows.filter((r) => r.batch === 64)) {
    const { direct: ratio, floor, ceiling: most } = row.ratios;
    const reach =
      most < 0.8 || floor < 0.8
        ? ` (out of reach over HTTP here: a server that only reads the bodies answers ${floor.toFixed(2)} of it, ` +
          `and the run on one core, reading the body and the load generator's own work leave at most ` +
          `${most.toFixed(2)})`
        : '';
    out(`${verdict(ratio >= 0.8)} ${row.name} throughput ${ratio.toFixed(2)} of direct onnxruntime >= 0.80${reach}`);
  }
  for (const row of rows.filter((r) => r.pyLatency && r.ratios.python !== undefined)) {
    const faster = row.rhLatency.p50 <= (row.pyLatency?.p50 ?? 0) && (row.ratios.python ?? 0) >= 1;
    out(`${verdict(faster)} ${row.name}: p50 and throughput at least the Python server's`);
  }
  const underInference = loaded[0]?.health.p99;
  if (underInference !== undefined) {
    out(`${verdict(underInference < 5)} health p99 under inference ${ms(underInference)} ms < 5 ms`);
  }
  out('(targets are reported, not enforced)');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

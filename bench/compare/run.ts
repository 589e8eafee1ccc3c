import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureVenv, run } from '../python-venv';
import { writeCompareData, type CompareData } from './data';

/**
 * `npm run bench:compare`: the same ten ONNX updates aggregated by FedAvg side by side, each tool a whole process
 * timed by this driver's clock and its peak RSS read by GNU time (`%M`, the child's ru_maxrss), interleaved run by run:
 * `cat` of the files (the floor), the built `roundhouse aggregate`, a streaming numpy float64 fold, and Flower's
 * `aggregate`. Fails only if the outputs disagree (or a tool fails); the speed and memory targets are printed.
 *
 * --size 29M   parameters of the synthetic MLP (K, M, G suffixes); 29M is about 116 MB a file
 * --runs 3     measured runs of each tool, for the medians
 * --tools cat,roundhouse,numpy,flower   the tools to run (roundhouse and one of numpy and flower at least); for
 *              models larger than memory leave Flower out (it holds every update as float64 arrays):
 *              `--size 250M --runs 1 --tools cat,roundhouse,numpy` is ten updates of 1 GB
 */

const ROOT = join(__dirname, '..', '..');
const HERE = __dirname;
const UPDATES = 10;
const TOLERANCE = 1e-6;
const GNU_TIME = '/usr/bin/time';
/** Set for older OpenBLAS builds on some processors; they slow a current numpy, so the Python commands run without. */
const OPENBLAS_VARIABLES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

type Tool = 'cat' | 'roundhouse' | 'numpy' | 'flower';
const TOOLS: readonly Tool[] = ['cat', 'roundhouse', 'numpy', 'flower'];
const LABELS: Readonly<Record<Tool, string>> = {
  cat: 'cat (floor)',
  roundhouse: 'roundhouse aggregate',
  numpy: 'numpy float64 fold',
  flower: 'flwr aggregate',
};

interface Sample {
  readonly seconds: number;
  readonly rssBytes: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '29M' },
      runs: { type: 'string', default: '3' },
      tools: { type: 'string', default: TOOLS.join(',') },
    },
  });
  const tools = parseTools(values.tools);
  const params = parseSize(values.size);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--runs must be a positive integer, not ${values.runs}`);
  }
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} is missing: install GNU time (apt-get install time); it reads each tool's peak RSS`);
  }
  ensureBuilt();
  const python = ensureVenv(join(HERE, 'requirements.txt'));
  const info = pythonInfo(python);

  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'roundhouse-bench-compare-'));
  try {
    process.stderr.write(`writing the global model and ${UPDATES} updates of ${values.size} parameters to ${dir}\n`);
    const data = await writeCompareData(dir, params, UPDATES);
    const commands = toolCommands(data, dir, python);
    const samples = new Map<Tool, Sample[]>(TOOLS.map((tool) => [tool, []]));
    // Warm the page cache so every tool reads the files from memory, as the floor does.
    measure(commands.cat, dir);
    measure(commands.cat, dir);
    const runtime = measure([process.execPath, join(ROOT, 'bin', 'roundhouse.js'), 'aggregate', '--help'], dir);
    let agreement: AgreeReport | undefined;
    for (let run = 1; run <= runs; run++) {
      for (const tool of tools) {
        rmSync(outputPath(dir, tool), { force: true });
        samples.get(tool)?.push(measure(commands[tool], dir, tool === 'numpy' || tool === 'flower'));
      }
      if (run === 1) {
        // Checked after the first run, so a disagreement fails before the other runs take their time.
        agreement = checkAgreement(python, dir, tools);
      }
      process.stderr.write(`run ${run}/${runs} done\n`);
    }
    printReport(data, info, tools, samples, runtime, agreement, (Date.now() - started) / 1000);
    if (agreement?.ok !== true) {
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A comma-separated subset of the tools, in the table's order; roundhouse and a comparator are required. */
function parseTools(text: string): Tool[] {
  const named = text.split(',').map((name) => name.trim());
  const unknown = named.filter((name) => !(TOOLS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`--tools takes ${TOOLS.join(', ')}; not ${unknown.join(', ')}`);
  }
  const tools = TOOLS.filter((tool) => named.includes(tool));
  if (!tools.includes('roundhouse') || !tools.some((tool) => tool === 'numpy' || tool === 'flower')) {
    throw new Error('--tools must name roundhouse and at least one of numpy and flower, to check its result');
  }
  return tools;
}

/** `29M`, `2M`, `500K`, `1.5G` or a plain count. */
function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text.trim());
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[(match?.[2] ?? '').toUpperCase()];
  const value = match ? Number(match[1]) * (scale ?? NaN) : NaN;
  if (!Number.isFinite(value) || value < 20_000) {
    throw new Error(`--size must be a parameter count of at least 20K (like 2M or 29M), not ${text}`);
  }
  return Math.round(value);
}

function outputPath(dir: string, tool: Tool): string {
  return join(dir, `result-${tool}.onnx`);
}

function toolCommands(data: CompareData, dir: string, python: string): Record<Tool, string[]> {
  const inputs = [data.global, ...data.updates.map((update) => `${update.path}:${update.samples}`)];
  return {
    cat: ['cat', data.global, ...data.updates.map((update) => update.path)],
    roundhouse: [
      process.execPath,
      join(ROOT, 'bin', 'roundhouse.js'),
      'aggregate',
      '--method',
      'fedavg',
      '--out',
      outputPath(dir, 'roundhouse'),
      ...inputs,
    ],
    numpy: [python, join(HERE, 'numpy_fold.py'), '--out', outputPath(dir, 'numpy'), ...inputs],
    flower: [python, join(HERE, 'flower_fold.py'), '--out', outputPath(dir, 'flower'), ...inputs],
  };
}

/** Runs one command as a whole process under GNU time: wall seconds by this clock, peak RSS from `%M` (KiB). */
function measure(command: readonly string[], dir: string, pythonEnv = false): Sample {
  const stats = join(dir, 'time.txt');
  const start = process.hrtime.bigint();
  const child = run(GNU_TIME, ['-f', '%M', '-o', stats, ...command], {
    // Every tool's output goes nowhere, the floor's `cat` included; errors are kept.
    stdio: ['ignore', 'ignore', 'pipe'],
    env: pythonEnv ? pythonEnvironment() : process.env,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (child.status !== 0) {
    throw new Error(`${command.join(' ')} exited with ${child.status}:\n${child.stderr}`);
  }
  const kib = Number(readFileSync(stats, 'utf8').trim().split('\n').pop());
  if (!Number.isFinite(kib)) {
    throw new Error(`GNU time wrote no peak RSS for ${command.join(' ')}`);
  }
  return { seconds, rssBytes: kib * 1024 };
}

function pythonEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of OPENBLAS_VARIABLES) {
    delete env[name];
  }
  // No __pycache__ left beside the scripts.
  env.PYTHONDONTWRITEBYTECODE = '1';
  return env;
}

/** Builds dist/ when it is missing or older than the newest file under src/. */
function ensureBuilt(): void {
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (builtAt >= newestMtime(join(ROOT, 'src'))) {
    return;
  }
  process.stderr.write('dist/ is missing or older than src/: npm run build\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = run(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (child.status !== 0) {
    throw new Error('npm run build failed');
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

interface PythonInfo {
  readonly python: string;
  readonly versions: Record<string, string>;
  readonly blas: string;
  readonly threadpools: Record<string, unknown>[];
  readonly simd_baseline: string[];
  readonly simd_found: string[];
  readonly openblas_env: Record<string, string | null>;
}

function pythonInfo(python: string): PythonInfo {
  const child = run(python, [join(HERE, 'check.py'), 'info'], { env: pythonEnvironment() });
  if (child.status !== 0) {
    throw new Error(`check.py info failed:\n${child.stderr}`);
  }
  return JSON.parse(child.stdout) as PythonInfo;
}

interface AgreeReport {
  readonly ok: boolean;
  readonly tools: Record<string, { max_abs_diff: number; bit_equal: number; values: number; problems: string[] }>;
}

/** numpy's and Flower's results against Roundhouse's, read back with onnx; prints and returns the report. */
function checkAgreement(python: string, dir: string, tools: readonly Tool[]): AgreeReport {
  const others = tools.filter((tool) => tool === 'numpy' || tool === 'flower');
  const child = run(
    python,
    [
      join(HERE, 'check.py'),
      'agree',
      String(TOLERANCE),
      outputPath(dir, 'roundhouse'),
      ...others.map((tool) => `${tool}=${outputPath(dir, tool)}`),
    ],
    { env: pythonEnvironment() },
  );
  if (child.stdout.trim() === '') {
    throw new Error(`check.py agree failed:\n${child.stderr}`);
  }
  return JSON.parse(child.stdout) as AgreeReport;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

function printReport(
  data: CompareData,
  info: PythonInfo,
  tools: readonly Tool[],
  samples: ReadonlyMap<Tool, Sample[]>,
  runtime: Sample,
  agreement: AgreeReport | undefined,
  totalSeconds: number,
): void {
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
  const stat = (tool: Tool): { median: number; min: number; peak: number } => {
    const list = samples.get(tool) ?? [];
    return {
      median: median(list.map((s) => s.seconds)),
      min: Math.min(...list.map((s) => s.seconds)),
      peak: Math.max(...list.map((s) => s.rssBytes)),
    };
  };
  const rh = stat('roundhouse');
  const runs = samples.get('roundhouse')?.length ?? 0;
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  out();
  out(
    `FedAvg of ${data.updates.length} updates of a ${(data.params / 1e6).toFixed(2)}M-parameter float32 MLP ` +
      `(${mb(data.modelBytes)} MB a file, ${mb(data.modelBytes * (data.updates.length + 1))} MB read), ` +
      `median of ${runs} runs, each tool a whole process, files in the page cache`,
  );
  out(`sample sizes: ${data.updates.map((update) => update.samples).join(', ')}`);
  const pools = info.threadpools
    .map((pool) => `${String(pool.internal_api)} ${String(pool.version)} ${String(pool.architecture)} kernel`)
    .join(', ');
  out(
    `python ${info.python}: numpy ${info.versions.numpy} (${info.blas}; ${pools || 'no BLAS pool'}; ` +
      `SIMD ${info.simd_baseline.join(' ')} + ${info.simd_found.join(' ')}), onnx ${info.versions.onnx}, ` +
      `flwr ${info.versions.flwr}, protobuf ${info.versions.protobuf}; run without ${OPENBLAS_VARIABLES.join(' and ')}`,
  );
  out(`node ${process.version}; peak RSS is GNU time's %M (the process's ru_maxrss); time is wall clock per process`);
  out();
  const header = ['tool', 'median s', 'min s', 'peak RSS MB', 'time / roundhouse'];
  const rows = tools.map((tool) => {
    const s = stat(tool);
    return [LABELS[tool], s.median.toFixed(2), s.min.toFixed(2), mb(s.peak), (s.median / rh.median).toFixed(2)];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  for (const row of all) {
    out(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '));
  }
  out();
  for (const [name, report] of Object.entries(agreement?.tools ?? {})) {
    out(
      `agreement ${name} vs roundhouse: max |difference| ${report.max_abs_diff.toExponential(2)} ` +
        `(${((100 * report.bit_equal) / report.values).toFixed(1)}% bit-equal)` +
        (report.problems.length > 0 ? `: ${report.problems.join('; ')}` : ''),
    );
  }
  out(`${agreement?.ok === true ? 'PASS' : 'FAIL'} agreement: every weight within ${TOLERANCE} of Roundhouse's`);
  const numpy = stat('numpy');
  const flower = stat('flower');
  const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
  if (tools.includes('numpy')) {
    out(
      `${verdict(rh.median <= numpy.median / 3)} target: Roundhouse ${rh.median.toFixed(2)} s <= numpy's time / 3 ` +
        `(${(numpy.median / 3).toFixed(2)} s)`,
    );
  }
  if (tools.includes('flower')) {
    out(
      `${verdict(rh.median <= flower.median / 4)} target: Roundhouse ${rh.median.toFixed(2)} s <= Flower's time / 4 ` +
        `(${(flower.median / 4).toFixed(2)} s)`,
    );
  }
  const limit = 3 * data.modelBytes + runtime.rssBytes;
  out(
    `${verdict(rh.peak < limit)} target: Roundhouse peak RSS ${mb(rh.peak)} MB < 3 x model ${mb(data.modelBytes)} MB ` +
      `+ runtime ${mb(runtime.rssBytes)} MB (peak RSS of \`roundhouse aggregate --help\`) = ${mb(limit)} MB`,
  );
  out(`(speed and memory targets are reported, not enforced; total ${totalSeconds.toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

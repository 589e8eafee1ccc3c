import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { writeDiskCase, LAYOUTS } from './bench-data';
import type { BenchCase } from './bench-data';
import type { CaseResult } from './fedavg.bench';

const caseResult = z.object({
  mode: z.enum(['engine', 'baseline']),
  seconds: z.number(),
  updateBytes: z.number(),
  modelBytes: z.number(),
  rssBefore: z.number(),
  rssPeak: z.number(),
}) satisfies z.ZodType<CaseResult>;

/**
 * `npm run bench`: FedAvg throughput and peak RSS for N = 2, 10, 50 updates of 1M and 10M float32 parameters (in
 * memory) and N = 2, 10 of 100M (streamed from files in a temp dir, deleted afterwards), each beside a plain
 * typed-array fold over the same bytes. Every case and mode runs in its own process so peak RSS is its own.
 * `--quick` skips the 100M cases (they write 1.2 and 4.4 GB of files); `--strategies` runs only the table of the other
 * strategies against FedAvg.
 */
const CASES: readonly { size: string; updates: number; storage: 'memory' | 'disk' }[] = [
  ...['1M', '10M'].flatMap((size) => [2, 10, 50].map((updates) => ({ size, updates, storage: 'memory' as const }))),
  { size: '100M', updates: 2, storage: 'disk' },
  { size: '100M', updates: 10, storage: 'disk' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, strategies: { type: 'boolean' } } });
  if (values.strategies === true) {
    printStrategies();
    return;
  }
  const started = Date.now();
  const rows: string[][] = [];
  for (const spec of CASES.filter((c) => values.quick !== true || c.storage === 'memory')) {
    const layout = LAYOUTS[spec.size];
    if (layout === undefined) {
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'roundhouse-bench-'));
    try {
      if (spec.storage === 'disk') {
        await writeDiskCase({ layout, updates: spec.updates, storage: 'disk' } satisfies BenchCase, dir);
      }
      const engine = runCase(spec, 'engine', dir);
      const baseline = runCase(spec, 'baseline', dir);
      rows.push(formatRow(spec, layout.tensors * layout.elements, engine, baseline));
      process.stderr.write(`done ${spec.size} x${spec.updates}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(rows);
  printStrategies();
  process.stdout.write(
    `\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s; GB = 1e9 bytes of update models read\n`,
  );
}

function runCase(
  spec: (typeof CASES)[number],
  mode: 'engine' | 'baseline',
  dir: string,
  method = 'fedavg',
  params: Readonly<Record<string, unknown>> = {},
): CaseResult {
  const args = [
    '--method',
    method,
    '--params',
    JSON.stringify(params),
    '--size',
    spec.size,
    '--updates',
    String(spec.updates),
    '--storage',
    spec.storage,
    '--mode',
    mode,
    '--dir',
    dir,
  ];
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(__dirname, 'fedavg.bench.ts'), ...args],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (child.status !== 0) {
    throw new Error(`bench case failed: ${args.join(' ')}\n${child.stderr}`);
  }
  return caseResult.parse(JSON.parse(child.stdout.trim()));
}

function formatRow(spec: (typeof CASES)[number], params: number, engine: CaseResult, baseline: CaseResult): string[] {
  const gbps = (r: CaseResult): number => r.updateBytes / r.seconds / 1e9;
  const peak = (r: CaseResult): string => (r.rssPeak / r.modelBytes).toFixed(2);
  const delta = (r: CaseResult): string => ((r.rssPeak - r.rssBefore) / r.modelBytes).toFixed(2);
  return [
    `${(params / 1e6).toFixed(1)}M`,
    String(spec.updates),
    spec.storage,
    `${(engine.modelBytes / 1e6).toFixed(1)} MB`,
    gbps(engine).toFixed(2),
    gbps(baseline).toFixed(2),
    (gbps(engine) / gbps(baseline)).toFixed(2),
    `${peak(engine)} (+${delta(engine)})`,
    `${peak(baseline)} (+${delta(baseline)})`,
    `${engine.seconds.toFixed(2)} s`,
  ];
}

/**
 * The other strategies on one in-memory case (10M parameters, 10 updates) against the FedAvg engine in the same run:
 * time as a ratio, and peak RSS per model size (the robust rules hold a chunk of coordinates of every update at a
 * time plus their float64 result, FedOpt its float64 mean and moments).
 */
function printStrategies(): void {
  const spec = { size: '10M', updates: 10, storage: 'memory' as const };
  const methods: [string, string, Record<string, unknown>][] = [
    ['fedavg', 'fedavg', {}],
    ['fedavgm', 'fedavgm', {}],
    ['fedadam', 'fedadam', {}],
    ['fedmedian', 'fedmedian', {}],
    ['fedtrimmedavg', 'fedtrimmedavg', {}],
    ['krum f=1', 'krum', { num_malicious_nodes: 1 }],
    ['multikrum f=1 m=5', 'multikrum', { num_malicious_nodes: 1, num_nodes_to_select: 5 }],
    ['bulyan f=1', 'bulyan', { num_malicious_nodes: 1 }],
  ];
  const rows: string[][] = [];
  let fedAvgSeconds = NaN;
  for (const [label, method, params] of methods) {
    const result = runCase(spec, 'engine', '', method, params);
    fedAvgSeconds = method === 'fedavg' ? result.seconds : fedAvgSeconds;
    rows.push([
      label,
      `${result.seconds.toFixed(2)} s`,
      (result.seconds / fedAvgSeconds).toFixed(2),
      (result.rssPeak / result.modelBytes).toFixed(2),
      ((result.rssPeak - result.rssBefore) / result.modelBytes).toFixed(2),
    ]);
    process.stderr.write(`done ${label}\n`);
  }
  const header = ['strategy (10M x 10)', 'time', 'time / FedAvg', 'peak RSS/model', 'run RSS/model'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  process.stdout.write('\n');
  for (const row of all) {
    process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`);
  }
}

function printTable(rows: string[][]): void {
  const header = [
    'params',
    'N',
    'updates',
    'model',
    'engine GB/s',
    'plain GB/s',
    'ratio',
    'engine peak RSS/model (+run)',
    'plain peak RSS/model (+run)',
    'engine time',
  ];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  for (const row of all) {
    process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

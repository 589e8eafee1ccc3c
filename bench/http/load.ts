import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import autocannon from 'autocannon';

/**
 * A load generator in a process of its own (`tsx bench/http/load.ts '<json>'`), so that what it measures is the
 * server's time, not the benchmark's: autocannon drives `connections` keep-alive connections for `seconds` and this
 * prints one JSON line with the latency of every 2xx answer (exact percentiles, not autocannon's whole-millisecond
 * histogram), the answers per second, and whatever failed.
 */
export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A file whose bytes are every request's body. */
  bodyFile?: string;
  connections: number;
  seconds: number;
  /** Seconds of the same load first, not measured. */
  warmupSeconds?: number;
  /** The server's process: the CPU time it spends (every thread) over the measured part is reported per answer. */
  serverPid?: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Answers that were not 2xx, and connection errors and timeouts. */
  failed: number;
  /** The first failed answer's status, when one failed. */
  firstFailure?: number;
  /** CPU milliseconds the server's process spent per answer (with `serverPid`; Linux). */
  serverCpuMs?: number;
  /** CPU milliseconds this load generator spent per answer: on one machine, taken from the server's cores. */
  clientCpuMs: number;
}

/** CPU seconds `pid` has used so far, user and system, every thread (Linux's /proc). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticks;
}

async function run(options: LoadOptions, measure: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: number | undefined;
  const body = options.bodyFile ? fs.readFileSync(options.bodyFile) : undefined;
  let done: (result: autocannon.Result) => void = () => undefined;
  let failedRun: (err: unknown) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    done = resolve;
    failedRun = reject;
  });
  const options_ = {
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(body ? { body } : {}),
    connections: options.connections,
    duration: measure ? options.seconds : (options.warmupSeconds ?? 0),
    timeout: 30,
  };
  const cpuBefore = measure && options.serverPid !== undefined ? cpuSeconds(options.serverPid) : undefined;
  const clientBefore = process.cpuUsage();
  const instance = autocannon(options_, (err: unknown, result: autocannon.Result) =>
    err ? failedRun(err) : done(result),
  );
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) {
      latencies.push(ms);
    } else {
      failed += 1;
      firstFailure ??= status;
    }
  });
  const result = await finished;
  const client = process.cpuUsage(clientBefore);
  const cpu =
    cpuBefore === undefined || options.serverPid === undefined ? undefined : cpuSeconds(options.serverPid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    perSecond: latencies.length / result.duration,
    p50: at(0.5),
    p99: at(0.99),
    failed: failed + result.errors + result.timeouts,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    ...(cpu === undefined ? {} : { serverCpuMs: (cpu * 1000) / Math.max(1, latencies.length + failed) }),
    clientCpuMs: (client.user + client.system) / 1000 / Math.max(1, latencies.length + failed),
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  if ((options.warmupSeconds ?? 0) > 0) {
    await run(options, false);
  }
  process.stdout.write(`${JSON.stringify(await run(options, true))}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

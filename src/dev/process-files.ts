import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Logger } from '../logger';

/** True when a process with this pid exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
}

/** Waits until `pid` has exited, up to `timeoutMs`; returns whether it did. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

/** What a leftover stop did: stopped the process the pid file named, or found it stale (and removed the file). */
export type LeftoverOutcome = { stopped: number } | { stale: number; reason: string } | undefined;

/**
 * Stops a process left running by an earlier launcher that was killed without a chance to clean up (its pid is in
 * `pidFile`'s first line), so a restart does not fail on a held port or lock file. A pid file outlives its process
 * and pids are reused, so the pid is signalled only when that process is the one the file was written for: its
 * command line matches `command`, and it started no later than the file was written. Otherwise the file is stale:
 * it is removed (Postgres would refuse to start while its lock file names a live process) and nothing is signalled.
 */
export async function stopLeftover(pidFile: string, signal: NodeJS.Signals, command: RegExp): Promise<LeftoverOutcome> {
  const stat = await fs.stat(pidFile).catch(() => undefined);
  const text = stat ? await fs.readFile(pidFile, 'utf8').catch(() => undefined) : undefined;
  const pid = Number.parseInt(text?.split('\n')[0] ?? '', 10);
  if (!stat || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) {
    return undefined;
  }
  const mismatch = await identityMismatch(pid, command, stat.mtimeMs);
  if (mismatch) {
    await fs.rm(pidFile, { force: true });
    return { stale: pid, reason: mismatch };
  }
  process.kill(pid, signal);
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  return { stopped: pid };
}

/** Logs what `stopLeftover` did about a `what` left running by an earlier launcher. */
export function reportLeftover(logger: Logger, what: string, outcome: LeftoverOutcome): void {
  if (outcome && 'stopped' in outcome) {
    logger.warn(`stopped a ${what} left running by an earlier launcher`, { pid: outcome.stopped });
  } else if (outcome) {
    logger.warn(`removed a stale ${what} pid file: pid ${outcome.stale} is not that ${what} (${outcome.reason})`, {
      pid: outcome.stale,
    });
  }
}

/** Clock ticks per second of /proc/<pid>/stat's start time (USER_HZ, 100 on every Linux this runs on). */
const USER_HZ = 100;
/** The pid file is written right after its process started; allow for the file system's timestamp granularity. */
const START_SLACK_MS = 2_000;

/** Why `pid` is not the process a pid file written at `writtenAtMs` names, or undefined when it is. */
async function identityMismatch(pid: number, command: RegExp, writtenAtMs: number): Promise<string | undefined> {
  const cmdline = await commandLine(pid);
  if (cmdline === undefined) {
    return 'its command line cannot be read';
  }
  if (!command.test(cmdline)) {
    return `it runs "${cmdline.slice(0, 200)}"`;
  }
  const startedAtMs = await startTime(pid);
  if (startedAtMs !== undefined && startedAtMs > writtenAtMs + START_SLACK_MS) {
    return 'it started after the pid file was written';
  }
  return undefined;
}

async function commandLine(pid: number): Promise<string | undefined> {
  const proc = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (proc !== undefined) {
    return proc.split('\0').filter(Boolean).join(' ');
  }
  // No /proc (macOS): ps says the same.
  const ps = await promisify(execFile)('ps', ['-o', 'command=', '-p', String(pid)]).catch(() => undefined);
  return ps?.stdout.trim() || undefined;
}

/** When `pid` started, in epoch milliseconds, from /proc (undefined where there is none). */
async function startTime(pid: number): Promise<number | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const boot = await fs.readFile('/proc/stat', 'utf8').catch(() => undefined);
  // Field 22 (starttime); the fields after the command name, which may hold spaces, start at field 3.
  const ticks = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const btime = Number(/^btime (\d+)$/m.exec(boot ?? '')?.[1]);
  return Number.isFinite(ticks) && Number.isFinite(btime) ? (btime + ticks / USER_HZ) * 1000 : undefined;
}

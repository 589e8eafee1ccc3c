import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../logger';
import { reportLeftover, stopLeftover, waitForExit } from './process-files';

/** What `temporal server start-dev` is started with; from temporal.yaml, with test overrides. */
export interface DevServerSettings {
  cliPath: string;
  ip: string;
  port: number;
  /** The Web UI port; undefined runs headless. */
  uiPort: number | undefined;
  /** SQLite file that keeps workflows across restarts; undefined keeps them in memory. */
  dbPath: string | undefined;
  logLevel: string;
  namespace: string;
  searchAttributes: Record<string, string>;
  dynamicConfig: Record<string, string | number | boolean>;
}

/** A running dev server. */
export interface RunningDevServer {
  address: string;
  uiUrl: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

/** The CLI arguments for `settings`, in one place so the launcher and the tests cannot drift apart. */
export function devServerArgs(settings: DevServerSettings): string[] {
  const args = ['server', 'start-dev', '--ip', settings.ip, '--port', String(settings.port)];
  args.push('--namespace', settings.namespace, '--log-level', settings.logLevel);
  args.push(...(settings.uiPort === undefined ? ['--headless'] : ['--ui-port', String(settings.uiPort)]));
  if (settings.dbPath) {
    args.push('--db-filename', settings.dbPath);
  }
  for (const [name, type] of Object.entries(settings.searchAttributes)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(settings.dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the Temporal dev server as a child process and waits until its frontend accepts connections.
 * @param pidFile where the child's pid is kept, so a launcher killed without cleanup has its server stopped next time.
 */
export async function startTemporalDevServer(
  settings: DevServerSettings,
  logger: Logger,
  pidFile?: string,
): Promise<RunningDevServer> {
  if (pidFile) {
    reportLeftover(logger, 'Temporal dev server', await stopLeftover(pidFile, 'SIGTERM', /\bstart-dev\b/));
  }
  if (await canConnect(settings.ip, settings.port)) {
    throw new Error(
      `Port ${settings.ip}:${settings.port} is already in use; stop that process or set TEMPORAL_ADDRESS to use it`,
    );
  }
  if (settings.dbPath) {
    await fs.mkdir(path.dirname(settings.dbPath), { recursive: true });
  }
  const child = spawn(settings.cliPath, devServerArgs(settings), { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 40));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`Could not start ${settings.cliPath}`);
  }
  if (pidFile) {
    await fs.writeFile(pidFile, `${pid}\n`);
  }
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while (!(await canConnect(settings.ip, settings.port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not start:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    address: `${settings.ip}:${settings.port}`,
    uiUrl: settings.uiPort === undefined ? undefined : `http://${settings.ip}:${settings.uiPort}`,
    pid,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        if (!(await waitForExit(pid, 15_000))) {
          child.kill('SIGKILL');
          await waitForExit(pid, 5_000);
        }
      }
      if (pidFile) {
        await fs.rm(pidFile, { force: true });
      }
    },
  };
}

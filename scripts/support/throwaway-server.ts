/**
 * A whole Roundhouse (`roundhouse dev`: Postgres, Temporal, API and worker) on free ports with state in a temporary
 * folder, for scripts that need a real server of their own beside anything else running: the crash test, the demo.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');

/** `count` ports free on loopback right now. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Writes a copy of the repository's temporal.yaml whose dev server listens on the given ports; returns its path. */
export async function writeTemporalConfig(folder: string, port: number, uiPort: number): Promise<string> {
  const doc = YAML.parse(await fsp.readFile(path.join(ROOT, 'temporal.yaml'), 'utf8')) as {
    address: string;
    devServer: { ip: string; port: number; uiPort: number };
  };
  doc.devServer.port = port;
  doc.devServer.uiPort = uiPort;
  doc.address = `${doc.devServer.ip}:${port}`;
  const file = path.join(folder, 'temporal.yaml');
  await fsp.writeFile(file, YAML.stringify(doc));
  return file;
}

/** The process environment without any Roundhouse or Temporal setting of the caller's. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(ROUNDHOUSE_|TEMPORAL_(ADDRESS|NAMESPACE|TASK_QUEUE)$|DATABASE_URL$|PORT$)/.test(name)) {
      delete env[name];
    }
  }
  return env;
}

/** A running throwaway server. */
export interface ThrowawayServer {
  readonly url: string;
  readonly temporalUiUrl: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** How a throwaway server starts. */
export interface ThrowawayOptions {
  /** Set for `roundhouse dev` besides its ports, state folder and Temporal config. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for `/api/ready/` (default 3 minutes). */
  readyTimeoutMs?: number;
}

/** Attempts at starting a throwaway server whose ports another process took first. */
const START_ATTEMPTS = 3;

/** `roundhouse dev` exited because a port it was given was no longer free. */
export class PortTakenError extends Error {}

/** Whether a server's log says it could not bind a port. */
export function portTakenIn(log: string): boolean {
  return /address already in use|EADDRINUSE|Port [^ ]+ is already in use/i.test(log);
}

/**
 * Starts `roundhouse dev` (built: dist/ must exist) on free ports, with its state, logs and Temporal config in a new
 * temporary folder, and waits until `/api/ready/` answers 200 (at most `readyTimeoutMs`). A port is free when picked
 * but another process may take it before the server binds it (CI once saw the Temporal dev server's bind fail so):
 * then it starts again on new ports, up to three times.
 */
export async function startThrowawayServer(options: ThrowawayOptions = {}): Promise<ThrowawayServer> {
  return await retryWhilePortTaken(() => startOnce(options));
}

/** Calls `start` until it answers, again after a `PortTakenError`, at most `attempts` times in all. */
export async function retryWhilePortTaken<T>(start: () => Promise<T>, attempts = START_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= attempts) {
        throw err;
      }
      process.stderr.write(`${err.message}; starting again on other ports\n`);
    }
  }
}

async function startOnce(options: ThrowawayOptions): Promise<ThrowawayServer> {
  const folder = await fsp.mkdtemp(path.join(os.tmpdir(), 'roundhouse-throwaway-'));
  const [apiPort, pgPort, temporalPort, uiPort] = (await freePorts(4)) as [number, number, number, number];
  const logFile = path.join(folder, 'server.log');
  const log = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin/roundhouse.js'), 'dev'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      ROUNDHOUSE_STATE_DIR: path.join(folder, 'state'),
      ROUNDHOUSE_HOST: '127.0.0.1',
      ROUNDHOUSE_EMBEDDED_PG_PORT: String(pgPort),
      ROUNDHOUSE_TEMPORAL_CONFIG: await writeTemporalConfig(folder, temporalPort, uiPort),
      ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: 'true',
      PORT: String(apiPort),
      ...options.env,
    },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${apiPort}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    }
    fs.closeSync(log);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      const message = `roundhouse dev exited with ${child.exitCode}; its log is ${logFile}`;
      const taken = portTakenIn(await fsp.readFile(logFile, 'utf8'));
      throw taken ? new PortTakenError(`${message} (a port was taken)`) : new Error(message);
    }
    const ready = await fetch(`${url}/api/ready/`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) {
      return { url, temporalUiUrl: `http://127.0.0.1:${uiPort}`, logFile, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`roundhouse dev was not ready in time; its log is ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

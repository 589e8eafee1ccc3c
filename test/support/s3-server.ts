import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/storage/s3-blob-store';
import { freePort } from './free-port';

/** moto from PyPI in server mode: a real S3 API over HTTP, in memory, for the run. */
const MOTO_VERSION = '5.2.5';

export interface S3Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The virtual environment with moto, made on first use (about half a minute) and kept in the user's cache. */
function motoServerPath(): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const venv = path.join(cache, 'roundhouse-moto', `venv-moto-${MOTO_VERSION}`);
  const server = path.join(venv, 'bin', 'moto_server');
  if (!existsSync(server)) {
    const steps: string[][] = [
      ['python3', '-m', 'venv', '--clear', venv],
      [path.join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'],
    ];
    steps[1]?.push(`moto[server]==${MOTO_VERSION}`);
    for (const [command = '', ...args] of steps) {
      const result = spawnSync(command, args, { stdio: 'inherit' });
      if (result.status !== 0) {
        throw new Error(`could not install moto: ${command} ${args.join(' ')} exited with ${result.status}`);
      }
    }
  }
  return server;
}

/** Starts moto on a free loopback port and waits until it answers. */
export async function startS3Server(): Promise<S3Server> {
  const port = await freePort();
  const child = spawn(motoServerPath(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with ${child.exitCode}`);
    }
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) {
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('moto_server did not answer within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Points the AWS variables of this process at the test server (any credentials do). */
export function useS3Server(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_ACCESS_KEY_ID ??= 'roundhouse-test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'roundhouse-test';
  process.env.AWS_REGION ??= 'us-east-1';
}

/** A fresh bucket on the test server. */
export async function createTestBucket(name: string): Promise<void> {
  const client = s3Client();
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}

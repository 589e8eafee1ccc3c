import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/free-port';
import { testEnv } from '../support/test-env';

/** Runs `roundhouse dev` from the sources to its exit; resolves with its exit code and output. */
function runLauncher(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const main = path.join(__dirname, '../../src/cli/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('roundhouse dev as root with its state in a folder only root may enter', () => {
  let root: string;

  beforeAll(async () => {
    // mkdtemp makes a 0700 folder, as a new user's clone (or root's home) is.
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-private-'));
  });

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('stops at once with one line that names the folder and says what to do, not an initdb EACCES stack', async () => {
    expect(process.getuid?.()).toBe(0);
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('ROUNDHOUSE_') && !key.startsWith('TEMPORAL_')),
    );
    delete inherited.DATABASE_URL;
    const { code, stdout, stderr } = await runLauncher({
      ...inherited,
      ROUNDHOUSE_STATE_DIR: path.join(root, 'state'),
      ROUNDHOUSE_EMBEDDED_PG_PORT: String(await freePort()),
      PORT: String(await freePort()),
      TEMPORAL_CLI_PATH: testEnv('temporalCliPath'),
      LOG_LEVEL: 'warn',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `roundhouse: the embedded Postgres runs as the "postgres" system user, which cannot enter ${root} (mode 0700): ` +
        'move the clone and the state directory (ROUNDHOUSE_STATE_DIR) where other users may enter, allow it with ' +
        `"chmod o+x ${root}", or set DATABASE_URL to a Postgres of your own.`,
    ]);
    // Nothing was started or written inside it.
    await expect(fs.readdir(path.join(root, 'state'))).resolves.toEqual([]);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAlive, stopLeftover, waitForExit } from '../../src/dev/process-files';

/** A process whose command line reads `argv0 60`: `sleep 60` under another name. */
function sleeper(argv0: string): ChildProcess {
  return spawn('bash', ['-c', `exec -a ${argv0} sleep 60`], { stdio: 'ignore' });
}

/** The child's pid once its command line is final (until bash has exec'd, it is still bash's). */
async function running(child: ChildProcess): Promise<number> {
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error('no pid');
  }
  for (let i = 0; i < 100; i += 1) {
    if (!(await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).startsWith('bash')) {
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('bash never exec-ed');
}

describe('stopLeftover (the launcher stopping what an earlier launcher left running)', () => {
  let root: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-leftover-'));
  });

  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
    }
    await fs.rm(root, { recursive: true, force: true });
  });

  it('when the pid file names an unrelated process (a reused pid), signals nothing and removes the stale file', async () => {
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(stranger);
    const pid = await running(stranger);
    const pidFile = path.join(root, 'stranger.pid');
    await fs.writeFile(pidFile, `${pid}\n`);
    await expect(stopLeftover(pidFile, 'SIGTERM', /\bpostgres\b/)).resolves.toEqual({
      stale: pid,
      reason: 'it runs "sleep 60"',
    });
    expect(isAlive(pid)).toBe(true);
    await expect(fs.access(pidFile)).rejects.toThrow();
  });

  it('when the named process has the right command but started after the pid file was written, signals nothing', async () => {
    const later = sleeper('postgres');
    children.push(later);
    const pid = await running(later);
    const pidFile = path.join(root, 'later.pid');
    await fs.writeFile(pidFile, `${pid}\n`);
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    await fs.utimes(pidFile, tenSecondsAgo, tenSecondsAgo);
    await expect(stopLeftover(pidFile, 'SIGTERM', /\bpostgres\b/)).resolves.toEqual({
      stale: pid,
      reason: 'it started after the pid file was written',
    });
    expect(isAlive(pid)).toBe(true);
  });

  it('when the named process is the leftover the file was written for, stops it', async () => {
    const leftover = sleeper('postgres');
    children.push(leftover);
    const pid = await running(leftover);
    const pidFile = path.join(root, 'postmaster.pid');
    await fs.writeFile(pidFile, `${pid}\n/some/data/dir\n`);
    await expect(stopLeftover(pidFile, 'SIGTERM', /\bpostgres\b/)).resolves.toEqual({ stopped: pid });
    await expect(waitForExit(pid, 5_000)).resolves.toBe(true);
  });

  it('when the pid file is missing or its process is gone, does nothing', async () => {
    await expect(stopLeftover(path.join(root, 'none.pid'), 'SIGTERM', /x/)).resolves.toBeUndefined();
    const gone = path.join(root, 'gone.pid');
    await fs.writeFile(gone, '999999999\n');
    await expect(stopLeftover(gone, 'SIGTERM', /x/)).resolves.toBeUndefined();
  });
});

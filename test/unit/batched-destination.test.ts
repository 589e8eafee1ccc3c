import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchedDestination } from '../../src/logging/batched-destination';

const ROOT = path.join(__dirname, '..', '..');

/** Runs `code` in a Node process of its own (TypeScript through tsx), answering its exit code and stderr. */
function runNode(code: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('BatchedDestination', () => {
  it('writes lines together and in order once the wait is over, or at once past 64 KiB', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batched-destination-'));
    const file = path.join(dir, 'log');
    const fd = fs.openSync(file, 'w');
    try {
      const destination = new BatchedDestination(fd, { flushMs: 50 });
      destination.write('one\n');
      destination.write('two\n');
      await new Promise((resolve) => setTimeout(resolve, 5));
      destination.write('three\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\nthree\n');
      const long = `${'x'.repeat(64 * 1024)}\n`;
      destination.write(long);
      expect(fs.readFileSync(file, 'utf8')).toBe(`one\ntwo\nthree\n${long}`);
      destination.write('four\n');
      destination.flush();
      expect(fs.readFileSync(file, 'utf8')).toBe(`one\ntwo\nthree\n${long}four\n`);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A named pipe opened at both ends without blocking: nothing reads it until the test does (64 KiB fill it). */
  function fullablePipe(): { readFd: number; writeFd: number; close(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batched-destination-pipe-'));
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    return {
      readFd,
      writeFd,
      close: () => {
        fs.closeSync(writeFd);
        fs.closeSync(readFd);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  /** Reads the pipe (the destination's retries run between reads) until `done` holds for what was read. */
  async function readUntil(fd: number, done: (text: string) => boolean): Promise<string> {
    const chunk = Buffer.alloc(64 * 1024);
    let text = '';
    const until = Date.now() + 10_000;
    while (!done(text)) {
      if (Date.now() > until) {
        throw new Error(`the pipe gave ${text.length} characters and then nothing for 10 s`);
      }
      try {
        text += chunk.toString('utf8', 0, fs.readSync(fd, chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    return text;
  }

  const numbered = (i: number): string => `${String(i).padStart(6, '0')} ${'x'.repeat(92)}\n`;

  it('when the pipe is full, never waits for it: holds the rest and writes it, in order, once the reader reads', async () => {
    const pipe = fullablePipe();
    try {
      const destination = new BatchedDestination(pipe.writeFd, { flushMs: 1 });
      const lines = Array.from({ length: 3_000 }, (_, i) => numbered(i));
      for (const line of lines) {
        destination.write(line);
      }
      // 300 kB into a pipe that holds 64 KiB: the call comes back with lines held rather than blocking the thread.
      expect(destination.flush()).toBe(false);
      const expected = lines.join('');
      expect(await readUntil(pipe.readFd, (text) => text.length >= expected.length)).toBe(expected);
    } finally {
      pipe.close();
    }
  });

  it('when more than its limit waits for a full pipe, drops the newest lines and says how many once it drains', async () => {
    const pipe = fullablePipe();
    try {
      const destination = new BatchedDestination(pipe.writeFd, { flushMs: 1, maxHeldBytes: 100_000 });
      const total = 5_000;
      for (let i = 0; i < total; i += 1) {
        destination.write(numbered(i));
      }
      const text = await readUntil(pipe.readFd, (read) => read.includes('dropped') && read.endsWith('\n'));
      const [kept, notice] = [text.split('\n').filter((l) => l.includes(' xxx')), text.split('\n').at(-2) ?? ''];
      // What arrived is the lines in the order written, none twice; the warning accounts for every other one.
      const indices = kept.map((l) => Number(l.slice(0, 6)));
      expect(indices).toEqual([...indices].sort((a, b) => a - b));
      expect(new Set(indices).size).toBe(indices.length);
      expect(JSON.parse(notice)).toMatchObject({
        level: 'warn',
        message: `${total - indices.length} log lines were dropped: the log's reader did not keep up`,
      });
      expect(indices.length).toBeLessThan(total);
      expect(indices.length * numbered(0).length).toBeLessThanOrEqual(100_000 + 64 * 1024 + 64 * 1024);
    } finally {
      pipe.close();
    }
  });

  it('when a process logs into a stderr pipe nobody reads, it goes on working, and its lines arrive once read', async () => {
    const code =
      `const log = require('./src/logger').createLogger('info');` +
      `for (let i = 0; i < 5000; i++) log.info('line ' + i + ' ' + 'x'.repeat(200));` +
      `setTimeout(() => process.stdout.write('alive\\n'), 20);` +
      // It stays up a while, as a server would: its lines reach a reader that is slow to start, even on a loaded
      // machine, without the exit's own (one second) wait.
      `setTimeout(() => {}, 3000);`;
    // tsx compiles what its cache lacks with an esbuild process that inherits stderr, and a process spawned with
    // an inherited descriptor makes it blocking again (libuv): compiled beforehand, the child under test spawns none.
    expect(
      spawnSync(process.execPath, ['--import', 'tsx', '-e', `require('./src/logger')`], { cwd: ROOT }).status,
    ).toBe(0);
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A stuck child fails the test at once with what it said, rather than at jest's timeout.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    // Its stderr is not read yet: 1.2 MB of lines against a 64 KiB pipe. It answers on stdout all the same.
    let out = '';
    let err = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('alive')) {
            resolve();
          }
        });
        child.once('exit', (status, signal) =>
          reject(new Error(`exited (${status ?? signal}) before it answered on stdout: ${JSON.stringify(out)}`)),
        );
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(guard);
    }
    const lines = err.split('\n').filter((line) => line.includes('"message":"line '));
    expect(lines).toHaveLength(5000);
    expect(lines.at(-1)).toContain('"message":"line 4999 ');
  });

  it.each([
    ['process.exit() right after the line', `log.info('last words'); process.exit(3);`, 3],
    ['an uncaught error', `setTimeout(() => { log.info('last words'); throw new Error('boom'); });`, 1],
    ['the event loop running out of work', `log.info('last words');`, 0],
  ])('when the process ends by %s, its last lines are written', (_, code, status) => {
    const run = runNode(`const log = require('./src/logger').createLogger('info'); ${code}`);
    expect(run.status).toBe(status);
    expect(run.stderr).toContain('"message":"last words"');
  });
});

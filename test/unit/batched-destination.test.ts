import { spawnSync } from 'node:child_process';
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
      const destination = new BatchedDestination(fd, 50);
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

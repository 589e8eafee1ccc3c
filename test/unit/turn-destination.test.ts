import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TurnDestination } from '../../src/logging/turn-destination';

const ROOT = path.join(__dirname, '..', '..');

/** Runs `code` in a Node process of its own (TypeScript through tsx), answering its exit code and stderr. */
function runNode(code: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('TurnDestination', () => {
  it("writes a turn's lines together and in order after the turn, not while it runs", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-destination-'));
    const file = path.join(dir, 'log');
    const fd = fs.openSync(file, 'w');
    try {
      const destination = new TurnDestination(fd);
      destination.write('one\n');
      destination.write('two\n');
      destination.write('three\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('');
      await new Promise((resolve) => setImmediate(resolve));
      expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\nthree\n');
      destination.write('four\n');
      destination.flush();
      expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\nthree\nfour\n');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['process.exit() in the same turn', `log.info('last words'); process.exit(3);`, 3],
    ['an uncaught error in a later turn', `setTimeout(() => { log.info('last words'); throw new Error('boom'); });`, 1],
    ['the event loop running out of work', `log.info('last words');`, 0],
  ])('when the process ends by %s, the lines of its last turn are written', (_, code, status) => {
    const run = runNode(`const log = require('./src/logger').createLogger('info'); ${code}`);
    expect(run.status).toBe(status);
    expect(run.stderr).toContain('"message":"last words"');
  });
});

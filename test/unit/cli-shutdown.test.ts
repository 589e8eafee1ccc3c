import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Runs `stopAll` with `steps` (source text) in a Node process of its own, answering its exit code and stderr. */
function stopInChild(steps: string): { status: number | null; stderr: string } {
  const code =
    `const { stopAll } = require('./src/cli/shutdown'); const log = require('./src/logger').createLogger('debug');` +
    `stopAll(log, ${steps}, 300).then(() => log.info('all stopped'));`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr };
}

describe('stopAll', () => {
  it('when a step never ends while something keeps the process up, exits 1 past the deadline naming that step', () => {
    const run = stopInChild(
      `[['api', async () => {}], ['worker', () => new Promise(() => setInterval(() => {}, 1000))], ['db', async () => {}]]`,
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('"message":"stopping took too long: exiting now"');
    expect(run.stderr).toContain('"waitingFor":"worker"');
    expect(run.stderr).not.toContain('all stopped');
  });

  it('when every step ends, or fails, in time, runs them all and the deadline never fires', () => {
    const run = stopInChild(
      `[['api', async () => {}], ['worker', async () => { throw new Error('worker broke'); }], ['db', async () => {}]]`,
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('"message":"stop failed"');
    expect(run.stderr).toContain('"name":"db","message":"stopped"');
    expect(run.stderr).toContain('all stopped');
    expect(run.stderr).not.toContain('too long');
  });
});

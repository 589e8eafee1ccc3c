import { SetupError } from '../../../src/dev/setup-error';
import { captureLog } from '../../support/log-capture';
import { runMain } from './helpers/run-main';

describe('roundhouse exit codes', () => {
  it('when run with no command, runs dev (what npm start relies on) and exits 0 once it stops', async () => {
    expect(await runMain([])).toEqual({ code: 0, stdout: '', stderr: '', ran: ['dev'] });
  });

  it.each([
    [['api'], 'api'],
    [['worker'], 'worker'],
    [['sweep'], 'sweep'],
    [['migrate'], 'migrate'],
    [['migrate', '--down'], 'migrate --down'],
  ])('when run as %j, runs %s with its options', async (argv, ran) => {
    expect(await runMain(argv)).toEqual({ code: 0, stdout: '', stderr: '', ran: [ran] });
  });

  it('when the configuration is invalid, prints every problem and exits 2 without starting the role', async () => {
    const run = await runMain(['migrate'], { env: { PORT: 'not a port', LOG_LEVEL: 'loud' } });
    expect(run).toMatchObject({ code: 2, stdout: '', ran: [] });
    expect(run.stderr).toMatch(/^Invalid configuration:\n {2}- env PORT: .*\n {2}- env LOG_LEVEL: .*\n$/);
  });

  it('when a role stops on a setup problem, prints it as one line and exits 1', async () => {
    const dev = (): Promise<void> => Promise.reject(new SetupError('the state directory is not writable'));
    const run = await runMain([], { roles: { dev } });
    expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'roundhouse: the state directory is not writable\n' });
  });

  it('when a role fails otherwise, logs the failure and exits 1', async () => {
    const log = captureLog();
    const sweep = (): Promise<void> => Promise.reject(new Error('disk gone'));
    const run = await runMain(['sweep'], { roles: { sweep }, log: log.destination });
    expect(run).toMatchObject({ code: 1, stdout: '', stderr: '' });
    const failed = log.lines().find((line) => line.message === 'sweep failed');
    expect(failed).toMatchObject({ level: 'error', role: 'sweep', error: { name: 'Error', message: 'disk gone' } });
  });
});

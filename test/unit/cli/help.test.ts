import { runMain } from './helpers/run-main';

const COMMANDS = ['dev', 'api', 'worker', 'migrate', 'sweep', 'aggregate'];

describe('roundhouse --help', () => {
  it.each([[['--help']], [['-h']], [['help']]])(
    'when run as %j, lists every command and starts nothing',
    async (argv) => {
      const run = await runMain(argv, { env: { PORT: 'not a port' } });
      expect(run).toMatchObject({ code: 0, stderr: '', ran: [] });
      expect(run.stdout).toMatch(/^Usage: roundhouse \[options\] \[command\]\n/);
      for (const command of COMMANDS) {
        expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
      }
      expect(run.stdout).toContain('With no command, runs dev');
    },
  );

  it.each(COMMANDS)(
    'when asked for %s --help, shows that command alone without loading the configuration',
    async (name) => {
      const run = await runMain([name, '--help'], { env: { PORT: 'not a port' } });
      expect(run).toMatchObject({ code: 0, stderr: '', ran: [] });
      expect(run.stdout).toMatch(new RegExp(`^Usage: roundhouse ${name} `));
      expect(await runMain(['help', name])).toEqual(run);
    },
  );

  it('when asked for migrate --help, names --down', async () => {
    expect((await runMain(['migrate', '--help'])).stdout).toMatch(/^ {2}--down +roll every applied migration back/m);
  });
});

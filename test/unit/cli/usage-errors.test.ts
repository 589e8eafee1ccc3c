import { runMain } from './helpers/run-main';

describe('roundhouse usage errors', () => {
  it.each([
    [['frobnicate'], "roundhouse: Unknown command 'frobnicate'", 'Usage: roundhouse [options] [command]'],
    [['--bogus'], "roundhouse: Unknown option '--bogus'", 'Usage: roundhouse [options] [command]'],
    [['migrate', '--bogus'], "roundhouse migrate: Unknown option '--bogus'", 'Usage: roundhouse migrate'],
    [['migrate', '--down=yes'], "roundhouse migrate: Unknown option '--down=yes'", 'Usage: roundhouse migrate'],
    [
      ['dev', 'extra'],
      "roundhouse dev: Too many arguments for 'dev'. Expected 0 arguments but got 1.",
      'Usage: roundhouse dev',
    ],
    [['sweep', '-x'], "roundhouse sweep: Unknown option '-x'", 'Usage: roundhouse sweep'],
    [
      ['aggregate', '--out'],
      "roundhouse aggregate: Option '--out <result>' argument missing",
      'Usage: roundhouse aggregate',
    ],
    [
      ['aggregate', '--method', 'fedavg', '--out', 'r.onnx'],
      'roundhouse aggregate: give the global model',
      'Usage: roundhouse aggregate',
    ],
  ])(
    'when run as %j, exits 2 with one line naming the problem, then the usage, and starts nothing',
    async (argv, line, usage) => {
      const run = await runMain(argv);
      expect(run).toMatchObject({ code: 2, stdout: '', ran: [] });
      const [first, blank, next] = run.stderr.split('\n');
      expect([first?.slice(0, line.length), blank, next?.slice(0, usage.length)]).toEqual([line, '', usage]);
    },
  );

  it('when the command line is wrong and the configuration too, reports the command line', async () => {
    const run = await runMain(['api', '--port', '80'], { env: { PORT: 'not a port' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^roundhouse api: Unknown option '--port'\n/);
  });
});

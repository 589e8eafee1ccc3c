import type { Round, RoundhouseClient, TrainingStatus } from '../../../src/client';
import { RoundhouseApiError, RoundhouseConnectionError } from '../../../src/client';
import { CliError, describeFailure, EXIT } from '../../../src/cli/client/exit-codes';
import { Printer } from '../../../src/cli/client/output';
import { progressBar } from '../../../src/cli/client/progress';
import { serverSeries, sparkline, view, watchTraining } from '../../../src/cli/client/watch';
import { roundView } from '../../fixtures/round-views';
import { runMain } from './helpers/run-main';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

function captured(): {
  printer: (options: { json?: boolean; tty?: boolean }) => Printer;
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  const output = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
  };
  return {
    printer: ({ json = false, tty = false }) => new Printer(output, json, tty, tty),
    out,
    err,
  };
}

function training(state: string, run: Partial<NonNullable<TrainingStatus['run']>> | null): TrainingStatus {
  return {
    id: 'tttttttt-0000-4000-8000-000000000000',
    state,
    target_num_updates: 2,
    last_update: '2026-01-01T00:00:00Z',
    uncertainty_method: 'NONE',
    aggregation_method: 'FedAvg',
    options: {},
    locked: false,
    model: 'mmmmmmmm-0000-4000-8000-000000000000',
    actor: 'cccccccc-0000-4000-8000-000000000000',
    participants: [A, B],
    group: null,
    local_models_arrived: 1,
    local_models_expected: 2,
    error: state === 'E' ? 'Round 1 ended below quorum.' : null,
    run:
      run === null
        ? null
        : {
            phase: 'UPDATE',
            round: 1,
            participants: [A, B],
            received: [A],
            missing: [B],
            deadline: '2026-01-01T00:01:30Z',
            extended: false,
            left_out: {},
            declined: {},
            ...run,
          },
  } as TrainingStatus;
}

function round(n: number, state: Round['state'], before: number, after: number | undefined): Round {
  return roundView(n, {
    round_id: n + 1,
    training: 'tttttttt-0000-4000-8000-000000000000',
    state,
    produced: after === undefined ? null : n + 1,
    sample_size_total: 5000,
    server_metrics: after === undefined ? {} : { accuracy: after },
    server_metrics_started_from: { accuracy: before },
  });
}

/**
 * A client whose training answers the given looks in turn (the last one repeated); its rounds page as the API's do,
 * and `pages` records the page each look asked for.
 */
function fakeClient(
  looks: Array<{ training: TrainingStatus; rounds: Round[] }>,
  pages: Array<{ from?: number; limit?: number }> = [],
): RoundhouseClient {
  let i = 0;
  const next = () => looks[Math.min(i, looks.length - 1)]!;
  return {
    trainings: {
      get: () => Promise.resolve(next().training),
      rounds: (_id: string, page: { from?: number; limit?: number } = {}) => {
        const look = next();
        i += 1;
        pages.push(page);
        const from = page.from ?? 0;
        return Promise.resolve(look.rounds.filter((r) => r.round >= from).slice(0, page.limit ?? Infinity));
      },
    },
  } as unknown as RoundhouseClient;
}

describe('the client commands on a terminal', () => {
  it('charts values on 0..1 as block characters, others from their least to their most', () => {
    expect(sparkline([0, 0.5, 1])).toBe('▁▅█');
    expect(sparkline([10, 20, 30])).toBe('▁▅█');
    expect(sparkline([3, 3])).toBe('▅▅');
    expect(sparkline([])).toBe('');
  });

  it("takes the server's figure per version: the initial model's, then each round's produced one", () => {
    expect(serverSeries([round(0, 'DONE', 0.1, 0.6), round(1, 'UPDATE', 0.6, undefined)], 'accuracy')).toEqual([
      [0, 0.1],
      [1, 0.6],
    ]);
  });

  it('draws the round, the countdown, who has uploaded, the chart and the rounds', () => {
    const lines = view(
      { training: training('O', {}), rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'UPDATE', 0.6, undefined)] },
      'accuracy',
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(lines).toEqual([
      'Training tttttttt-0000-4000-8000-000000000000  FedAvg, 2 round(s)  ONGOING',
      'Round 2 of 2, phase UPDATE',
      'Deadline: in 1m 30s',
      'Uploaded 1/2: ✔ aaaaaaaa  · bbbbbbbb',
      'Server accuracy: ▂▅  0.100 → 0.600 (versions 0–1)',
      '  round   0  DONE        2/2 updates  accuracy 0.600',
      '  round   1  UPDATE      2/2 updates',
    ]);
  });

  it('redraws the view in place on a terminal and exits 0 once the training completes', async () => {
    const { printer, out } = captured();
    const client = fakeClient([
      { training: training('O', {}), rounds: [round(0, 'DONE', 0.1, 0.6)] },
      { training: training('C', null), rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'DONE', 0.6, 0.9)] },
    ]);
    const code = await watchTraining(client, 't', printer({ tty: true }), { interval: 0.001, metric: 'accuracy' });
    expect(code).toBe(EXIT.OK);
    expect(out).toHaveLength(2);
    expect(out[0]).not.toContain('\x1b');
    // Back over the first view's lines, cleared, and the new view in their place.
    const firstLines = out[0]!.split('\n').length - 1;
    expect(out[1]).toMatch(new RegExp(`^\\x1b\\[${firstLines}F\\x1b\\[J`));
    expect(out[1]).toContain('Completed.\nServer accuracy: ▂▅▇  0.100 → 0.900 (versions 0–2)');
  });

  it('prints one JSON object per change without a terminal, and ends in error with exit code 6', async () => {
    const { printer, out } = captured();
    const failing = fakeClient([
      { training: training('O', {}), rounds: [] },
      { training: training('O', {}), rounds: [] },
      { training: training('O', { received: [A, B], missing: [] }), rounds: [] },
      { training: training('E', null), rounds: [round(0, 'DONE', 0.1, 0.6)] },
    ]);
    const failure = await watchTraining(failing, 't', printer({ json: true }), {
      interval: 0.001,
      metric: 'accuracy',
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ exitCode: EXIT.TRAINING_FAILED });
    const events = out.map((line) => JSON.parse(line) as { event: string; received?: string[] });
    // The unchanged second look printed nothing.
    expect(events.map((e) => e.event)).toEqual(['status', 'status', 'round', 'end']);
    expect(events[1]?.received).toEqual([A, B]);
    expect(events[3]).toMatchObject({
      state: 'ERROR',
      error: 'Round 1 ended below quorum.',
      server_accuracy: [0.1, 0.6],
    });
  });

  it("prints a round once, with the server's figures, when the round is done before they arrive", async () => {
    const { printer, out } = captured();
    const evaluated = { ...training('O', {}), options: { evaluation_dataset: 7 } } as TrainingStatus;
    const before = { ...round(0, 'DONE', 0.1, 0.6), server_metrics: {} };
    const client = fakeClient([
      { training: evaluated, rounds: [before] },
      { training: evaluated, rounds: [round(0, 'DONE', 0.1, 0.6)] },
      { training: evaluated, rounds: [round(0, 'TEST', 0.1, 0.6)] },
      { training: evaluated, rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'UPDATE', 0.6, undefined)] },
      { training: training('C', null), rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'DONE', 0.6, 0.9)] },
    ]);
    await watchTraining(client, 't', printer({ json: true }), { interval: 0.001, metric: 'accuracy' });
    const rounds = out
      .map((line) => JSON.parse(line) as { event: string; round?: number; server_metrics?: object })
      .filter((e) => e.event === 'round');
    expect(rounds).toEqual([
      expect.objectContaining({ round: 0, server_metrics: { accuracy: 0.6 } }),
      expect.objectContaining({ round: 1, server_metrics: { accuracy: 0.9 } }),
    ]);
  });

  it('reads again only the rounds from the first one not settled, and still shows every round', async () => {
    const { printer, out } = captured();
    const pages: Array<{ from?: number; limit?: number }> = [];
    const client = fakeClient(
      [
        { training: training('O', {}), rounds: [round(0, 'UPDATE', 0.1, undefined)] },
        { training: training('O', {}), rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'UPDATE', 0.6, undefined)] },
        { training: training('O', {}), rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'DONE', 0.6, 0.9)] },
        {
          training: training('C', null),
          rounds: [round(0, 'DONE', 0.1, 0.6), round(1, 'DONE', 0.6, 0.9), round(2, 'DONE', 0.9, 0.95)],
        },
      ],
      pages,
    );
    await watchTraining(client, 't', printer({ tty: true }), { interval: 0.001, metric: 'accuracy' });
    expect(pages.map((page) => page.from ?? 0)).toEqual([0, 0, 1, 2]);
    const last = out.at(-1)!;
    expect(last).toContain('Server accuracy: ▂▅▇█  0.100 → 0.950 (versions 0–3)');
    expect(last).toContain('  round   0  DONE        2/2 updates  accuracy 0.600');
    expect(last).toContain('  round   2  DONE        2/2 updates  accuracy 0.950');
  });

  it('prints a round without figures at once when nothing evaluates it', async () => {
    const { printer, out } = captured();
    const client = fakeClient([
      { training: training('O', {}), rounds: [{ ...round(0, 'DONE', 0.1, 0.6), server_metrics: {} }] },
      { training: training('C', null), rounds: [{ ...round(0, 'DONE', 0.1, 0.6), server_metrics: {} }] },
    ]);
    await watchTraining(client, 't', printer({}), { interval: 0.001, metric: 'accuracy' });
    expect(out.filter((line) => line.startsWith('round 0'))).toEqual(['round 0 DONE: 2/2 updates, 5000 samples\n']);
    expect(out.findIndex((line) => line.startsWith('round 0'))).toBeLessThan(out.length - 1);
  });

  it('draws a progress bar on a terminal, and only a final line otherwise', () => {
    const tty = captured();
    const bar = progressBar(tty.printer({ tty: true }), 'uploading m.onnx', 'uploaded');
    bar.onProgress(500, 1000);
    bar.onProgress(1000, 1000);
    bar.done();
    expect(tty.err[0]).toBe(`\r\x1b[2Kuploading m.onnx [${'█'.repeat(15)}${'░'.repeat(15)}]  50% 500 B / 1.0 kB`);
    expect(tty.err.at(-2)).toBe(`\r\x1b[2Kuploading m.onnx [${'█'.repeat(30)}] 100% 1.0 kB / 1.0 kB`);
    expect(tty.err.at(-1)).toBe('\n');

    const plain = captured();
    const quiet = progressBar(plain.printer({}), 'uploading m.onnx', 'uploaded');
    quiet.onProgress(1000, 1000);
    quiet.done();
    expect(plain.err).toEqual(['uploading m.onnx: uploaded 1.0 kB\n']);
  });
});

describe('the client commands: usage and help', () => {
  it('lists the client commands and the exit codes in roundhouse --help', async () => {
    const run = await runMain(['--help']);
    for (const command of [
      'login',
      'logout',
      'register',
      'users',
      'models',
      'trainings',
      'tasks',
      'datasets',
      'infer',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    }
    expect(run.stdout).toContain('  6  trainings watch: the training ended in error');
  });

  it.each([
    [['login'], 'give --username'],
    [['login', '--username', 'u'], 'give the password on stdin with --password-stdin, or in ROUNDHOUSE_PASSWORD'],
    [['trainings', 'create', '--rounds', '1'], '--model is required'],
    [['trainings', 'create', '--model', 'm', '--rounds', '0'], "argument '0' is invalid"],
    [['models', 'upload', 'm.onnx', '--input-shape', 'None,x'], 'each dimension is a whole number or None'],
    [['tasks', '--wait', '61'], 'from 0 to 60'],
    [['datasets', 'upload'], 'give a safetensors file, or both --x and --y'],
    [['infer', 'm'], '--input is required'],
  ])('exits 2 for %j before asking the server anything', async (argv, message) => {
    const run = await runMain(argv, { env: { ROUNDHOUSE_URL: 'http://127.0.0.1:1', ROUNDHOUSE_TOKEN: 't' } });
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain(message);
  });
});

describe('the exit code of a failure', () => {
  it.each([
    [new RoundhouseApiError('GET /api/users/myself/', 401, 'Invalid token.', 'not_authenticated', undefined), 3],
    [new RoundhouseApiError('GET /api/models/x/', 404, 'Model x not found.', 'not_found', undefined), 4],
    [new RoundhouseApiError('POST /api/models/', 400, 'Invalid model file.', 'invalid_input', { reason: 'r' }), 4],
    [new RoundhouseApiError('POST /api/trainings/', 403, 'Not an actor.', 'forbidden', undefined), 4],
    [new RoundhouseApiError('GET /api/trainings/', 503, 'Temporal is unavailable.', undefined, undefined), 5],
    [
      new RoundhouseConnectionError('GET /api/users/', new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } })),
      5,
    ],
    [Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }), 1],
  ])('maps %s to %i', (error, code) => {
    expect(describeFailure(error)?.exitCode).toBe(code);
  });

  it('leaves a bug to be thrown', () => {
    expect(describeFailure(new TypeError('x is undefined'))).toBeUndefined();
  });

  it('names the reason and the request beside the detail', () => {
    const refused = new RoundhouseApiError('POST /api/models/', 400, 'Invalid model file.', 'invalid_input', {
      reason: 'torch_pickle_global',
    });
    expect(describeFailure(refused)?.message).toBe('400 Invalid model file. [torch_pickle_global] (POST /api/models/)');
    const unreachable = new RoundhouseConnectionError(
      'GET /api/users/',
      new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } }),
    );
    expect(describeFailure(unreachable)?.message).toBe('server unreachable: GET /api/users/: ECONNREFUSED');
  });
});

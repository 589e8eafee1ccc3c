import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate } from '../../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import { runAggregateCommand } from '../../../src/cli/aggregate-command';
import { aggregateFixtures } from './helpers/engine';
import { CLIENTS, fixture } from './helpers/fixtures';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roundhouse-aggregate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAggregateCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

const updates = (model: string): string[] =>
  CLIENTS.map((c) => `${fixture(`${model}-client-${c.id}.onnx`)}:${c.sampleSize}`);

describe('roundhouse aggregate', () => {
  it('when given the fixtures, it writes the same bytes as the engine and reports the digest', async () => {
    const out = join(dir, 'result.onnx');
    const result = await run(['--method', 'fedavg', '--out', out, fixture('mlp-global-r0.onnx'), ...updates('mlp')]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^FedAvg of 3 updates \(6000 samples\) -> .*result\.onnx \(sha256 [0-9a-f]{64}\)\n$/);
    expect(readFileSync(out).equals(Buffer.from(await aggregateFixtures('mlp')))).toBe(true);
    expect(readdirSync(dir)).toEqual(['result.onnx']);
  });

  it('when FedProx gets proximal_mu through --param, it aggregates like FedAvg', async () => {
    const out = join(dir, 'prox.onnx');
    const argv = [
      '--method',
      'FedProx',
      '--param',
      'proximal_mu=0.01',
      '--out',
      out,
      fixture('mlp-global-r0.onnx'),
      ...updates('mlp'),
    ];
    expect((await run(argv)).code).toBe(0);
    expect(readFileSync(out).equals(Buffer.from(await aggregateFixtures('mlp')))).toBe(true);
  });

  it.each([
    [['--out', 'x.onnx', 'g.onnx', 'a.onnx:1'], '--method is required'],
    [['--method', 'fednova', '--out', 'x.onnx', 'g.onnx', 'a.onnx:1'], 'unknown method "fednova"'],
    [['--method', 'fedavg', 'g.onnx', 'a.onnx:1'], '--out is required'],
    [['--method', 'fedavg', '--out', 'x.onnx', 'g.onnx'], 'at least one update'],
    [['--method', 'fedavg', '--out', 'x.onnx', 'g.onnx', 'a.onnx'], 'must be <path>:<sample size>'],
    [['--method', 'fedavg', '--out', 'x.onnx', 'g.onnx', 'a.onnx:0'], 'must be <path>:<sample size>'],
    [['--method', 'fedavg', '--bogus', '--out', 'x.onnx', 'g.onnx', 'a.onnx:3'], "Unknown option '--bogus'"],
    [['--method', 'fedavg', '--param', 'mu', '--out', 'x', 'g', 'a:1'], '--param "mu" must be name=value'],
  ])('when run as %j, it is a usage error', async (argv, text) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(text);
    expect(result.stderr).toContain('Usage: roundhouse aggregate');
  });

  it('when FedAdam runs two rounds through --state-out and --state-in, it writes what the engine does in memory', async () => {
    const round1 = join(dir, 'r1.onnx');
    const round2 = join(dir, 'r2.onnx');
    const state = join(dir, 'state.safetensors');
    const first = await run([
      '--method',
      'fedadam',
      '--state-out',
      state,
      '--out',
      round1,
      fixture('mlp-global-r0.onnx'),
      ...updates('mlp'),
    ]);
    const second = await run(['--method', 'FedAdam', '--state-in', state, '--out', round2, round1, ...updates('mlp')]);
    expect([first.code, second.code, first.stderr, second.stderr]).toEqual([0, 0, '', '']);

    const sources = CLIENTS.map((c) => ({
      clientId: fixture(`mlp-client-${c.id}.onnx`),
      sampleSize: c.sampleSize,
      source: bytesSource(readFileSync(fixture(`mlp-client-${c.id}.onnx`))),
    }));
    const one = await aggregate({
      method: 'FedAdam',
      global: bytesSource(readFileSync(fixture('mlp-global-r0.onnx'))),
      updates: sources,
    });
    const oneBytes = await collectBytes(one.model);
    const two = await aggregate({
      method: 'FedAdam',
      global: bytesSource(oneBytes),
      updates: sources,
      ...(one.state ? { state: one.state } : {}),
    });
    expect(readFileSync(round1).equals(Buffer.from(oneBytes))).toBe(true);
    expect(readFileSync(round2).equals(Buffer.from(await collectBytes(two.model)))).toBe(true);
  });

  it('when a stateless method gets --state-out, it is a usage error', async () => {
    const result = await run([
      '--method',
      'fedavg',
      '--state-out',
      join(dir, 's'),
      '--out',
      join(dir, 'o.onnx'),
      fixture('mlp-global-r0.onnx'),
      ...updates('mlp'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FedAvg keeps no state between rounds');
  });

  it('when a --param is not one the method takes, it is a usage error before any file is read', async () => {
    const argv = [
      '--method',
      'fedavg',
      '--param',
      'proximal_mu=0.1',
      '--out',
      join(dir, 'x.onnx'),
      fixture('mlp-global-r0.onnx'),
      ...updates('mlp'),
    ];
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FedAvg has no parameter "proximal_mu"; it takes none');
  });

  it('when a file is missing, it is a usage error naming it', async () => {
    const result = await run([
      '--method',
      'fedavg',
      '--out',
      join(dir, 'x.onnx'),
      fixture('mlp-global-r0.onnx'),
      `${join(dir, 'nope.onnx')}:10`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read');
  });

  it('when an update does not match the global model, it fails with the error code and leaves no file', async () => {
    const out = join(dir, 'result.onnx');
    const result = await run([
      '--method',
      'fedavg',
      '--out',
      out,
      fixture('mlp-global-r0.onnx'),
      `${fixture('cnn-client-a.onnx')}:10`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/update of client ".*cnn-client-a\.onnx": .*\[model_graph_mismatch\]/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('when an update path is a directory, it fails with the I/O error instead of a stack trace', async () => {
    const argv = ['--method', 'fedavg', '--out', join(dir, 'r.onnx'), fixture('mlp-global-r0.onnx'), `${dir}:5`];
    const result = await run(argv);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[EISDIR]');
  });

  it('when the global model is truncated, it fails saying so', async () => {
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(fixture('mlp-global-r0.onnx')).subarray(0, 5000));
    const result = await run([
      '--method',
      'fedavg',
      '--out',
      join(dir, 'r.onnx'),
      cut,
      `${fixture('mlp-client-a.onnx')}:1`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('global model: the model is truncated');
  });

  it('when given PyTorch archives, it writes the same bytes as the engine, in the global archive format', async () => {
    const out = join(dir, 'result.pt');
    const torch = (name: string): string => fixture(`torch/${name}`);
    const argv = [
      '--method',
      'FedMedian',
      '--out',
      out,
      torch('cnn-global-r0.state.pt'),
      ...CLIENTS.map((c) => `${torch(`cnn-client-${c.id}.state.pt`)}:${c.sampleSize}`),
    ];
    const result = await run(argv);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const engine = await aggregate({
      method: 'FedMedian',
      global: bytesSource(readFileSync(torch('cnn-global-r0.state.pt'))),
      updates: CLIENTS.map((c) => ({
        clientId: torch(`cnn-client-${c.id}.state.pt`),
        sampleSize: c.sampleSize,
        source: bytesSource(readFileSync(torch(`cnn-client-${c.id}.state.pt`))),
      })),
    });
    const written = readFileSync(out);
    expect(written.equals(Buffer.from(await collectBytes(engine.model)))).toBe(true);
    expect(written.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('when a PyTorch update runs code on load, it fails with the reader code and leaves no file', async () => {
    const out = join(dir, 'result.pt');
    const argv = [
      '--method',
      'fedavg',
      '--out',
      out,
      fixture('torch/mlp-global-r0.jit.pt'),
      `${fixture('torch/refused-code-on-load.pt')}:10`,
    ];
    const result = await run(argv);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused-code-on-load\.pt": .*posix\.system.*\[torch_pickle_global\]/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('when asked for help, it prints the usage and succeeds', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--method <method>');
  });
});

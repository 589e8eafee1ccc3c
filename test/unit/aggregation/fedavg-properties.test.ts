import { aggregate } from '../../../src/aggregation/aggregate';
import { checkModel } from '../../../src/models/checks';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { scanModel } from '../../../src/models/scan';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import { buildModel } from '../../fixtures/models/onnx-builder';
import { DataType } from '../../fixtures/models/tensor-builder';
import { mixedDtypeSpec } from '../../fixtures/models/small-models';
import { fixtureUpdates, mlp, run, update } from './helpers/aggregate-run';
import { CLIENTS } from './helpers/fixtures';

/** A one-tensor float64 model: Flower's golden vectors are float64 and checked to 1e-9. */
const vectorModel = (values: number[]): Uint8Array =>
  buildModel({ ...mixedDtypeSpec('raw'), initializers: [{ name: 'x', dataType: DataType.DOUBLE, dims: [3], values }] });

describe('FedAvg', () => {
  it('when every update is the same model, the result is that model byte for byte', async () => {
    const a = mlp('client-a');
    const out = await run(
      'FedAvg',
      mlp('global-r0'),
      CLIENTS.map((c) => update(c.id, c.sampleSize, a)),
    );
    expect(out.equals(a)).toBe(true);
  });

  it('when every sample size is scaled by the same factor, the output bytes do not change', async () => {
    const base = await run('fedavg', mlp('global-r0'), fixtureUpdates());
    expect((await run('fedavg', mlp('global-r0'), fixtureUpdates(7))).equals(base)).toBe(true);
    expect((await run('fedavg', mlp('global-r0'), fixtureUpdates(1000))).equals(base)).toBe(true);
    expect(base.equals(mlp('global-r0'))).toBe(false);
  });

  it('when the updates arrive in another order or in odd chunk sizes, the output bytes do not change', async () => {
    const base = await run('fedavg', mlp('global-r0'), fixtureUpdates());
    const shuffled = [...CLIENTS].reverse().map((c) => update(c.id, c.sampleSize, mlp(`client-${c.id}`), 13));
    expect((await run('fedavg', mlp('global-r0'), shuffled)).equals(base)).toBe(true);
  });

  it('when the sources are promised streams (as a blob store returns them), the output bytes do not change', async () => {
    const base = await run('fedavg', mlp('global-r0'), fixtureUpdates());
    const promised = fixtureUpdates().map((u) => ({
      ...u,
      source: () => Promise.resolve(bytesSource(mlp(`client-${u.clientId}`))()),
    }));
    expect((await run('fedavg', mlp('global-r0'), promised)).equals(base)).toBe(true);
  });

  it('when the clients get other ids, the fold order (by id) changes but the mean stays within float rounding', async () => {
    const base = await readFloatInitializers(bytesSource(await run('fedavg', mlp('global-r0'), fixtureUpdates()))());
    const renamed = CLIENTS.map((c, i) => update(`z${3 - i}`, c.sampleSize, mlp(`client-${c.id}`)));
    const other = await readFloatInitializers(bytesSource(await run('fedavg', mlp('global-r0'), renamed))());
    const a = base.get('1.weight') ?? [];
    const b = other.get('1.weight') ?? [];
    expect(Array.from(a).every((v, i) => Math.abs(v - (b[i] ?? NaN)) <= 1e-7)).toBe(true);
  });

  it("when given Flower's golden vector, it returns Flower's FedAvg result", async () => {
    const x0 = [0.5, -1.0, 2.0];
    const deltas = [
      [0.1, 0.1, 0.1],
      [-0.1, -0.2, -0.2],
      [0.05, -0.05, 0.05],
    ];
    const updates = deltas.map((d, i) =>
      update(`c${i}`, [10, 30, 20][i] ?? 0, vectorModel(x0.map((x, j) => x + (d[j] ?? 0)))),
    );
    const values = await readFloatInitializers(bytesSource(await run('FedAvg', vectorModel(x0), updates))());
    const expected = [0.4833333333, -1.1, 1.9333333333];
    Array.from(values.get('x') ?? []).forEach((v, j) => expect(Math.abs(v - (expected[j] ?? NaN))).toBeLessThan(1e-9));
  });

  it('when the model has half-precision and non-float initializers, halves are averaged and rounded, the rest copied', async () => {
    const global = buildModel(mixedDtypeSpec('typed'));
    const updates = [
      update('a', 1, buildModel(mixedDtypeSpec('raw', 1))),
      update('b', 3, buildModel(mixedDtypeSpec('raw', 2))),
    ];
    const out = await run('fedavg', global, updates);
    const values = await readFloatInitializers(bytesSource(out)());
    // (1·v + 3·2v)/4 = 1.75 v: exact in float16/bfloat16 for these values.
    expect(Array.from(values.get('f16') ?? [])).toEqual([0.875, -2.1875, 5.25, 0]);
    expect(Array.from(values.get('bf16') ?? [])).toEqual([0.875, -2.1875, 5.25, 0]);
    // The int64 constant keeps the global model's own typed encoding, byte for byte.
    const [before, after] = await Promise.all([scanModel(bytesSource(global)()), scanModel(bytesSource(out)())]);
    expect(after.layout[4]).toEqual(before.layout[4]);
    expect(after.manifest[4]).toMatchObject({ name: 'shape', dtype: 'int64' });
  });

  it('when the caller passes the global summary kept from the upload check, the result is the same', async () => {
    const checked = await checkModel(bytesSource(mlp('global-r0'))());
    const summary = checked.ok ? checked.summary : undefined;
    const result = await aggregate({
      method: 'fedavg',
      global: bytesSource(mlp('global-r0')),
      globalSummary: summary,
      updates: fixtureUpdates(),
    });
    const bytes = Buffer.from(await collectBytes(result.model));
    expect(bytes.equals(await run('fedavg', mlp('global-r0'), fixtureUpdates()))).toBe(true);
  });

  it('when FedProx aggregates, the server side equals FedAvg and proximal_mu is accepted', async () => {
    const fedavg = await run('FedAvg', mlp('global-r0'), fixtureUpdates());
    expect((await run('FedProx', mlp('global-r0'), fixtureUpdates(), { proximal_mu: '0.01' })).equals(fedavg)).toBe(
      true,
    );
  });
});

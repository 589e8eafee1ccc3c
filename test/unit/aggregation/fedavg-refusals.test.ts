import { fileSource } from '../../../src/onnx/model-source';
import type { ClientUpdate } from '../../../src/aggregation/strategies/strategy';
import { buildModel } from '../../fixtures/models/onnx-builder';
import type { ModelSpec } from '../../fixtures/models/onnx-builder';
import { mixedDtypeSpec } from '../../fixtures/models/small-models';
import { DataType } from '../../fixtures/models/tensor-builder';
import { mlp, refusal, run, update } from './helpers/aggregate-run';

describe('FedAvg refusals', () => {
  const global = mlp('global-r0');
  const a = mlp('client-a');

  it.each([
    ['no updates', [], 'aggregation_no_updates'],
    ['a duplicate client', [update('x', 1, a), update('x', 2, a)], 'aggregation_duplicate_client'],
    ['a zero sample size', [update('x', 0, a)], 'aggregation_invalid_sample_size'],
    ['a NaN sample size', [update('x', NaN, a)], 'aggregation_invalid_sample_size'],
  ])('when given %s, it refuses with a code', async (_, updates, code) => {
    expect((await refusal(run('fedavg', global, updates))).code).toBe(code);
  });

  it.each([
    ['fednova', {}, 'aggregation_unknown_method'],
    ['fedavg', { proximal_mu: 1 }, 'aggregation_unknown_parameter'],
    ['fedprox', { proximal_mu: -1 }, 'aggregation_invalid_parameter'],
    ['fedprox', { proximal_mu: 'abc' }, 'aggregation_invalid_parameter'],
  ])('when the method is %s with %j, it refuses with a code', async (method, params, code) => {
    expect((await refusal(run(method, global, [update('x', 1, a)], params))).code).toBe(code);
  });

  it('when one update has another graph, the error names the client and the node', async () => {
    const error = await refusal(run('fedavg', global, [update('a', 1, a), update('b', 1, mlp('mcdropout'))]));
    expect(error).toMatchObject({ code: 'model_graph_mismatch', clientId: 'b' });
    expect(error.message).toMatch(/^update of client "b": the update has node 3/);
  });

  it('when one update holds NaN, the result is refused naming the tensor', async () => {
    const spec: ModelSpec = {
      ...mixedDtypeSpec('raw'),
      initializers: [{ name: 'v', dataType: DataType.FLOAT, dims: [2], values: [1, 2] }],
    };
    const bad = buildModel({
      ...spec,
      initializers: [{ name: 'v', dataType: DataType.FLOAT, dims: [2], values: [1, NaN] }],
    });
    const error = await refusal(
      run('fedavg', buildModel(spec), [update('a', 1, buildModel(spec)), update('b', 1, bad)]),
    );
    expect(error).toMatchObject({ code: 'model_non_finite', tensor: 'v' });
  });

  it('when a file of an update is unreadable, the I/O error is passed on as is', async () => {
    const missing: ClientUpdate = { clientId: 'a', sampleSize: 1, source: fileSource('/nonexistent/update.onnx') };
    await expect(run('fedavg', global, [missing])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

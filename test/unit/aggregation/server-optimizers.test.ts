import { aggregate } from '../../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import type { StrategyState } from '../../../src/aggregation/strategies/strategy';
import { float64Model, weightsOf } from './helpers/float64-models';

/** Flower's golden vectors: x_0, and three clients returning x_t + d_i every round with weights 10, 30, 20. */
const X0 = [0.5, -1.0, 2.0];
const CLIENTS = [
  { id: 'c1', n: 10, d: [0.1, 0.1, 0.1] },
  { id: 'c2', n: 30, d: [-0.1, -0.2, -0.2] },
  { id: 'c3', n: 20, d: [0.05, -0.05, 0.05] },
];

/** Runs `rounds` rounds of `method` on float64 models, carrying the strategy's state; returns x after each round. */
async function run(method: string, params: Record<string, number>, rounds: number): Promise<number[][]> {
  let x = X0;
  let state: StrategyState | undefined;
  const history: number[][] = [];
  for (let round = 0; round < rounds; round += 1) {
    const current = x;
    const result = await aggregate({
      method,
      params,
      global: bytesSource(float64Model(current)),
      updates: CLIENTS.map((c) => ({
        clientId: c.id,
        sampleSize: c.n,
        source: bytesSource(float64Model(current.map((v, i) => v + (c.d[i] ?? 0)))),
      })),
      ...(state ? { state } : {}),
    });
    x = await weightsOf(await collectBytes(result.model));
    state = result.state;
    history.push(x);
  }
  return history;
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, r) =>
    row.forEach((value, i) => expect(Math.abs(value - (expected[r]?.[i] ?? NaN))).toBeLessThan(1e-9)),
  );
}

describe('server-optimizer strategies (Flower golden vectors, float64 models)', () => {
  it.each([
    [
      'FedAvgM',
      { server_learning_rate: 1, server_momentum: 0.9 },
      [
        [0.4833333333, -1.1, 1.9333333333],
        [0.4516666667, -1.29, 1.8066666667],
      ],
    ],
    [
      'FedAdagrad',
      {},
      [
        [0.4056603774, -1.099009901, 1.9014778325],
        [0.3378276002, -1.1692240898, 1.8315092829],
      ],
    ],
    [
      'FedAdam',
      {},
      [
        [0.4535962632, -1.0674963444, 1.9354382793],
        [0.3935026565, -1.1474796238, 1.85801746],
      ],
    ],
    [
      'FedYogi',
      {},
      [
        [0.49375, -1.0090909091, 1.9913043478],
        [0.484317038, -1.0216386768, 1.9791576688],
      ],
    ],
  ])('%s with %j over two rounds, carrying its state, matches Flower to 1e-9', async (method, params, expected) => {
    expectClose(await run(method, params, 2), expected);
  });

  it('when FedAvgM has no momentum and rate 1, is FedAvg exactly', async () => {
    const [avgm] = await run('FedAvgM', {}, 1);
    const [avg] = await run('FedAvg', {}, 1);
    expect(avgm).toEqual(avg);
  });

  it('when the state of round 1 is not handed back, round 2 starts the moments afresh (and differs)', async () => {
    const [first] = await run('FedAdam', {}, 1);
    const second = await aggregate({
      method: 'FedAdam',
      global: bytesSource(float64Model(first ?? [])),
      updates: CLIENTS.map((c) => ({
        clientId: c.id,
        sampleSize: c.n,
        source: bytesSource(float64Model((first ?? []).map((v, i) => v + (c.d[i] ?? 0)))),
      })),
    });
    const fresh = await weightsOf(await collectBytes(second.model));
    expect(second.state?.step).toBe(1);
    expect(Math.abs((fresh[0] ?? 0) - 0.3935026565)).toBeGreaterThan(1e-3);
    expect([...(second.state?.tensors.keys() ?? [])].sort()).toEqual(['m/w', 'v/w']);
  });

  it('when a parameter is out of range or belongs to another method, refuses it', async () => {
    const request = { global: bytesSource(float64Model(X0)), updates: [] };
    await expect(aggregate({ ...request, method: 'FedAdam', params: { beta_1: 1.5 } })).rejects.toMatchObject({
      code: 'aggregation_invalid_parameter',
    });
    await expect(aggregate({ ...request, method: 'FedAdagrad', params: { beta_1: 0.5 } })).rejects.toMatchObject({
      code: 'aggregation_unknown_parameter',
    });
  });
});

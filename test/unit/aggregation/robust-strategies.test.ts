import { readFileSync } from 'node:fs';
import { aggregate } from '../../../src/aggregation/aggregate';
import { bytesSource, collectBytes, openSource } from '../../../src/onnx/model-source';
import { scanModel } from '../../../src/models/scan';
import { readFloatValues } from '../../../src/onnx/float/tensor-values';
import { float64Model, weightsOf } from './helpers/float64-models';
import { FIXTURE_FACTS, fixture } from './helpers/fixtures';

const fixtureBytes = (name: string): Buffer => readFileSync(fixture(name));

/** Flower's golden vectors: five replies (the fifth an attacker) with weights 10..50. */
const FIVE = [
  [1, 2, 3],
  [1.1, 2.1, 2.9],
  [0.9, 1.9, 3.1],
  [1.05, 2.0, 3.0],
  [10, -10, 10],
];
/** Bulyan's seven: the first four, three more, the last an attacker. */
const SEVEN = [...FIVE.slice(0, 4), [0.95, 2.05, 2.95], [1.02, 1.98, 3.05], [-8, 9, -7]];

/** Client ids c0, c1, ... sort in reply order, so "client order" is the order above. */
async function run(method: string, replies: number[][], params: Record<string, unknown> = {}): Promise<number[]> {
  const result = await aggregate({
    method,
    params,
    global: bytesSource(float64Model(new Array<number>(replies[0]?.length ?? 0).fill(0))),
    updates: replies.map((values, i) => ({
      clientId: `c${i}`,
      sampleSize: 10 * (i + 1),
      source: bytesSource(float64Model(values)),
    })),
  });
  return weightsOf(await collectBytes(result.model));
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - (expected[i] ?? NaN))).toBeLessThan(1e-9));
}

describe('robust aggregators (Flower golden vectors, float64 models)', () => {
  it.each([
    ['FedMedian', FIVE, {}, [1.05, 2.0, 3.0]],
    ['FedTrimmedAvg', FIVE, { beta: 0.2 }, [1.05, 1.9666666667, 3.0333333333]],
    ['Krum', FIVE, { num_malicious_nodes: 1 }, [1.05, 2.0, 3.0]],
    ['MultiKrum', FIVE, { num_malicious_nodes: 1, num_nodes_to_select: 3 }, [1.0571428571, 2.0285714286, 2.9714285714]],
    // Ties by client order (docs/training.md#common-rules): Flower's score order would give 3.0166666667 last.
    ['Bulyan', SEVEN, { num_malicious_nodes: 1 }, [1.0233333333, 1.9933333333, 2.9833333333]],
    // Iterative selection picks {0, 3, 5, 1, 2}, not one shot's {0, 1, 3, 4, 5}: in the pool {1, 2, 4, 6} (k = 1)
    // clients 1 and 4 are each other's nearest and tie, and so do 2 and 4 next; the earlier client wins both. Without
    // 2.95 (client 4) the third coordinate has no tie, and the result is Flower's 3.0166666667, as
    // Flower's legacy selection gives here.
    [
      'Bulyan',
      SEVEN,
      { num_malicious_nodes: 1, selection_rule: 'iterative' },
      [1.0233333333, 1.9933333333, 3.0166666667],
    ],
  ])('%s of the golden replies with %j matches to 1e-9', async (method, replies, params, expected) => {
    expectClose(await run(method, replies, params), expected);
  });

  it('when FedMedian gets an even count, takes the mean of the two middle values', async () => {
    expectClose(await run('FedMedian', FIVE.slice(0, 4)), [1.025, 2.0, 3.0]);
  });

  it('when Krum keeps one update, its values come through unchanged', async () => {
    expect(await run('Krum', FIVE, { num_malicious_nodes: 1 })).toEqual(FIVE[3]);
  });

  it("when the pool shrinks, Bulyan's iterative selection can keep an attacker that one shot leaves out", async () => {
    // One coordinate; f = 1, so θ = 5 updates are selected and β = 3 averaged. Four honest clients (0 to 3), a
    // straggler (12) and two colluding attackers (20, 21).
    const replies = [[0], [1], [2], [3], [12], [20], [21]];
    // One shot scores everyone once with k = n − f − 2 = 4 neighbours: the attackers' far neighbours count (scores
    // 95 to 158 for the honest four, 326 for the straggler, 678 and 767 for the attackers), so it selects
    // {0, 1, 2, 3, 12}; the median is 2 and the three closest values 2, 1, 3 average to 2.
    expectClose(await run('Bulyan', replies, { num_malicious_nodes: 1 }), [2]);
    // Iterative Krum takes 3, then 2 (k = 4, then 3). In the pool {0, 1, 12, 20, 21} k is 2, and the attackers are
    // each other's nearest with the straggler next: 20 scores 1 + 64 = 65, below honest 1's 1 + 121 = 122, and is
    // selected. Then 0 (k = 1) and 12 (a tie at 81 with 21, the earlier client wins). From {0, 2, 3, 12, 20} the
    // median is 3 and the three closest values 3, 2, 0 average to 5/3.
    expectClose(await run('Bulyan', replies, { num_malicious_nodes: 1, selection_rule: 'iterative' }), [5 / 3]);
  });

  it('when Bulyan gets a selection rule it does not know, or another method gets one, refuses naming the choices', async () => {
    await expect(run('Bulyan', SEVEN, { num_malicious_nodes: 1, selection_rule: 'sideways' })).rejects.toMatchObject({
      code: 'aggregation_invalid_parameter',
      message: 'Bulyan parameter selection_rule must be one of one_shot, iterative (got "sideways")',
    });
    await expect(run('Krum', FIVE, { selection_rule: 'iterative' })).rejects.toMatchObject({
      code: 'aggregation_unknown_parameter',
    });
  });

  it('when Bulyan has fewer than 4f + 3 updates, or FedTrimmedAvg a beta of 0.5, refuses with a clear message', async () => {
    await expect(run('Bulyan', FIVE, { num_malicious_nodes: 1 })).rejects.toMatchObject({
      code: 'aggregation_invalid_parameter',
      message: 'Bulyan with num_malicious_nodes 1 needs at least 7 updates; this round has 5',
    });
    await expect(run('FedTrimmedAvg', FIVE, { beta: 0.5 })).rejects.toMatchObject({
      code: 'aggregation_invalid_parameter',
    });
  });

  it('when one update does not match the global model, fails naming that client and leaves no stream waiting', async () => {
    const replies = FIVE.map((values) => float64Model(values));
    const result = aggregate({
      method: 'FedMedian',
      global: bytesSource(float64Model([0, 0, 0])),
      updates: [
        ...replies.map((bytes, i) => ({ clientId: `c${i}`, sampleSize: 1, source: bytesSource(bytes) })),
        { clientId: 'odd', sampleSize: 1, source: bytesSource(float64Model([1, 2])) },
      ],
    });
    await expect(result).rejects.toMatchObject({ code: 'model_manifest_mismatch', clientId: 'odd' });
    await expect(result).rejects.toThrow(/^update of client "odd": /);
  });
});

describe('FedMedian of the three fixture clients', () => {
  /** Every float initializer of a model file, by name, as plain numbers. */
  async function tensorsOf(bytes: Uint8Array): Promise<Map<string, number[]>> {
    const tensors = new Map<string, number[]>();
    await scanModel(openSource(bytesSource(bytes)), {
      onTensor: (record, info) => {
        if (info.isFloat) {
          tensors.set(info.name, [...readFloatValues(record)]);
        }
      },
    });
    return tensors;
  }

  it.each(['mlp', 'cnn'])(
    'when the %s clients are aggregated, every weight is the middle of the three',
    async (name) => {
      const clients = ['a', 'b', 'c'].map((id) => fixtureBytes(`${name}-client-${id}.onnx`));
      const result = await aggregate({
        method: 'FedMedian',
        global: bytesSource(fixtureBytes(`${name}-global-r0.onnx`)),
        updates: clients.map((bytes, i) => ({
          clientId: `c${i}`,
          sampleSize: 1000 * (i + 1),
          source: bytesSource(bytes),
        })),
      });
      const got = await tensorsOf(await collectBytes(result.model));
      const inputs = await Promise.all(clients.map((bytes) => tensorsOf(bytes)));
      let checked = 0;
      const wrong: string[] = [];
      for (const [tensor, values] of got) {
        const [a, b, c] = inputs.map((input) => input.get(tensor) ?? []);
        values.forEach((value, j) => {
          // The median of three float32 values is one of them: exact, whatever the sample sizes.
          const x = a?.[j] ?? NaN;
          const y = b?.[j] ?? NaN;
          const z = c?.[j] ?? NaN;
          const middle = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
          if (value !== middle) {
            wrong.push(`${tensor}[${j}]: ${value} instead of ${middle}`);
          }
          checked += 1;
        });
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(checked).toBe(FIXTURE_FACTS[name as 'mlp' | 'cnn'].param_count);
    },
  );
});

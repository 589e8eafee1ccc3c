import { readFileSync } from 'node:fs';
import { datasetFromSafetensors } from '../../../src/datasets/dataset-files';
import { checkDatasetTensors } from '../../../src/datasets/dataset-tensors';
import {
  buildMnistHeldout,
  heldOutIndices,
  MEAN,
  mnistHeldoutFile,
  PIXELS,
  STD,
} from '../../../scripts/datasets/mnist-heldout';
import { aggregateFixtures } from '../aggregation/helpers/engine';
import { fixture, mnistBatch } from '../aggregation/helpers/fixtures';
import { runModel } from '../aggregation/helpers/onnx-runtime';

const set = buildMnistHeldout();

/** The share of the held-out digits whose largest logit is their label. */
async function accuracy(model: Uint8Array): Promise<number> {
  const outputs = await runModel(model, {
    input: { type: 'float32', dims: [1000, 1, 28, 28], data: Array.from(set.x) },
  });
  const logits = outputs.logits ?? [];
  let right = 0;
  for (let row = 0; row < 1000; row++) {
    const scores = logits.slice(row * 10, row * 10 + 10);
    right += scores.indexOf(Math.max(...scores)) === Number(set.y[row]) ? 1 : 0;
  }
  return right / 1000;
}

describe('the MNIST evaluation set (scripts/datasets/mnist-heldout.ts)', () => {
  it('when built, has 1,000 digits of every class, normalized from the pixel range 0..255', () => {
    expect(heldOutIndices()).toHaveLength(1000);
    expect(set.x).toHaveLength(1000 * PIXELS);
    const counts = Array.from({ length: 10 }, (_, d) => set.y.filter((label) => label === BigInt(d)).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.min(...counts)).toBeGreaterThan(60);
    const [low, high] = set.x.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
    expect(low).toBeCloseTo(-MEAN / STD, 5);
    expect(high).toBeCloseTo((1 - MEAN) / STD, 5);
  });

  it('when its first 16 rows are compared with mnist-batch16.json, labels and pixels are those digits', () => {
    const batch = mnistBatch();
    expect(Array.from(set.y.subarray(0, 16), Number)).toEqual(batch.labels);
    const expected = Float32Array.from(batch.pixels.flat(), (p) => (p / 255 - MEAN) / STD);
    expect(Array.from(set.x.subarray(0, 16 * PIXELS))).toEqual(Array.from(expected));
  });

  it('when written as a file, it is a valid dataset upload of x float32 [1000, 1, 28, 28] and y int64 [1000]', () => {
    const tensors = datasetFromSafetensors(mnistHeldoutFile(set));
    checkDatasetTensors(tensors);
    expect([tensors.x.dtype, tensors.x.shape, tensors.y.dtype, tensors.y.shape]).toEqual([
      'float32',
      [1000, 1, 28, 28],
      'int64',
      [1000],
    ]);
  });

  it('when the MLP fixtures are run on it, the initial model scores about 0.12 and the FedAvg of the clients about 0.59', async () => {
    const initial = await accuracy(readFileSync(fixture('mlp-global-r0.onnx')));
    const fedAvg = await accuracy(await aggregateFixtures('mlp'));
    process.stdout.write(`accuracy on the held-out set: initial ${initial}, FedAvg ${fedAvg}\n`);
    expect(Math.abs(initial - 0.12)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(fedAvg - 0.59)).toBeLessThanOrEqual(0.03);
  });
});

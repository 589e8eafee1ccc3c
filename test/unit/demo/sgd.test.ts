import { loadBatch } from '../../../src/demo/digits';
import type { MlpWeights } from '../../../src/demo/mlp';
import { copyWeights, MLP_TENSORS, readMlpWeights, zeroWeights } from '../../../src/demo/mlp';
import { createScratch, forward, lossAndGradients, softmaxCrossEntropy } from '../../../src/demo/mlp-pass';
import { evaluate, step, trainLocally } from '../../../src/demo/sgd';
import { classShard, fixtureBytes } from './helpers/shards';

describe('the demo’s local SGD', () => {
  let start: MlpWeights;
  /** A non-IID client: 1,000 training digits of classes 0-4. */
  const shard = classShard([0, 1, 2, 3, 4], 1000);

  beforeAll(async () => {
    start = await readMlpWeights(fixtureBytes('mlp-global-r0.onnx'));
  });

  it('when one step is taken on a batch, that batch’s loss goes down', () => {
    const scratch = createScratch(32);
    loadBatch(
      shard,
      Array.from({ length: 32 }, (_, i) => i * 31),
      0,
      32,
      scratch.input,
      scratch.labels,
    );
    const weights = copyWeights(start);
    const grads = zeroWeights();
    const before = lossAndGradients(weights, scratch, 32, grads);
    step(weights, grads, zeroWeights(), 0.05, 0, true);
    forward(weights, scratch, 32);
    const after = softmaxCrossEntropy(scratch, 32);
    expect(after).toBeLessThan(before);
    // To first order the drop is lr·|g|²: the step went downhill by about what the gradient predicts.
    const squared = MLP_TENSORS.reduce((sum, { key }) => sum + grads[key].reduce((s, g) => s + g * g, 0), 0);
    expect(before - after).toBeGreaterThan(0.5 * 0.05 * squared);
  });

  it('when a client trains one epoch on its shard, its loss falls and its accuracy rises', () => {
    const result = trainLocally(start, shard, { epochs: 1, batchSize: 32, learningRate: 0.05, seed: 1 });
    process.stdout.write(
      `one epoch on 1000 digits of classes 0-4: loss ${result.before.loss.toFixed(4)} -> ${result.after.loss.toFixed(4)}, ` +
        `accuracy ${result.before.accuracy.toFixed(3)} -> ${result.after.accuracy.toFixed(3)}\n`,
    );
    expect(result.sampleSize).toBe(1000);
    expect(result.steps).toBe(32);
    expect(result.before).toEqual(evaluate(start, shard));
    expect(result.after.loss).toBeLessThan(result.before.loss / 2);
    expect(result.after.accuracy).toBeGreaterThan(result.before.accuracy + 0.5);
    // The caller's weights are untouched.
    expect(evaluate(start, shard)).toEqual(result.before);
  });

  it('when trained with momentum and dropout, the loss also falls, and the same seed gives the same update', () => {
    const options = { epochs: 1, momentum: 0.9, dropout: 0.2, learningRate: 0.01, seed: 4 };
    const once = trainLocally(start, shard, options);
    const again = trainLocally(start, shard, options);
    const other = trainLocally(start, shard, { ...options, seed: 5 });
    expect(once.after.loss).toBeLessThan(once.before.loss / 2);
    expect(Array.from(again.weights.w1)).toEqual(Array.from(once.weights.w1));
    expect(Array.from(other.weights.w1)).not.toEqual(Array.from(once.weights.w1));
  });

  it('when the digits and labels disagree, or a label is not a class, training is refused', () => {
    expect(() => trainLocally(start, { pixels: new Uint8Array(784), labels: [1, 2] }, { epochs: 1, seed: 0 })).toThrow(
      RangeError,
    );
    expect(() => trainLocally(start, { pixels: new Uint8Array(784), labels: [10] }, { epochs: 1, seed: 0 })).toThrow(
      'label 10',
    );
  });
});

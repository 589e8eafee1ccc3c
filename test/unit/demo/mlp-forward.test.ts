import { readFloatInitializers } from '../../../src/onnx/initializers';
import { fileSource } from '../../../src/onnx/model-source';
import { loadBatch } from '../../../src/demo/digits';
import { CLASSES, readMlpWeights } from '../../../src/demo/mlp';
import { createScratch, forward } from '../../../src/demo/mlp-pass';
import { evaluate } from '../../../src/demo/sgd';
import { mlpForward } from '../../support/mlp-forward';
import { maxAbsDiff } from '../aggregation/helpers/engine';
import { fixture, mnistBatch, normalizedInput, referenceLogits } from '../aggregation/helpers/fixtures';
import { fixtureBytes } from './helpers/shards';

/** The 16 digits of `mnist-batch16.json` as a digit set. */
function batch16(): { pixels: Uint8Array; labels: number[] } {
  const { pixels, labels } = mnistBatch();
  return { pixels: Uint8Array.from(pixels.flat()), labels };
}

describe('the demo MLP forward pass', () => {
  it('when run on the 16 fixture digits, equals the float64 reference pass and PyTorch’s logits within 1e-4', async () => {
    const weights = await readMlpWeights(fixtureBytes('mlp-global-r0.onnx'));
    const data = batch16();
    const scratch = createScratch(16);
    loadBatch(
      data,
      Array.from({ length: 16 }, (_, i) => i),
      0,
      16,
      scratch.input,
      scratch.labels,
    );
    // The batch loader's normalization is the one the reference tests use.
    expect(maxAbsDiff(Array.from(scratch.input), Array.from(normalizedInput()))).toBeLessThan(1e-12);
    forward(weights, scratch, 16);
    const logits = Array.from(scratch.logits.subarray(0, 16 * CLASSES));
    const initializers = await readFloatInitializers(fileSource(fixture('mlp-global-r0.onnx'))());
    const reference = mlpForward(initializers, normalizedInput(), 16);
    // Both in float64 from the same float32 weights: only the order of the sums differs.
    expect(maxAbsDiff(logits, Array.from(reference))).toBeLessThan(1e-12);
    // PyTorch's logits are float32 rounded to 6 decimals, [16][10] under the model's name.
    const pytorch = referenceLogits('mlp-global-r0');
    expect(pytorch).toHaveLength(16);
    expect(pytorch.every((row) => row.length === CLASSES)).toBe(true);
    expect(maxAbsDiff(logits, pytorch.flat())).toBeLessThan(1e-4);
  });

  it('when a batch is not a multiple of the four-row block, every row equals the same row run alone', async () => {
    const weights = await readMlpWeights(fixtureBytes('mlp-global-r0.onnx'));
    const data = batch16();
    const order = Array.from({ length: 16 }, (_, i) => i);
    const together = createScratch(7);
    loadBatch(data, order, 3, 7, together.input, together.labels);
    forward(weights, together, 7);
    const alone = createScratch(1);
    for (let row = 0; row < 7; row++) {
      loadBatch(data, order, 3 + row, 1, alone.input, alone.labels);
      forward(weights, alone, 1);
      const expected = Array.from(alone.logits);
      expect(maxAbsDiff(Array.from(together.logits.subarray(row * CLASSES, (row + 1) * CLASSES)), expected)).toBe(0);
    }
  });

  it('when evaluating the initial and a trained fixture model on the 16 digits, the trained one is better', async () => {
    const data = batch16();
    const initial = evaluate(await readMlpWeights(fixtureBytes('mlp-global-r0.onnx')), data);
    const mixed = evaluate(await readMlpWeights(fixtureBytes('mlp-client-c.onnx')), data);
    expect(initial.loss).toBeGreaterThan(2);
    expect(mixed.loss).toBeLessThan(initial.loss);
    expect(mixed.accuracy).toBeGreaterThan(initial.accuracy);
  });
});

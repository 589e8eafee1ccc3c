import type { MlpTensor, MlpWeights } from '../../../src/demo/mlp';
import { CLASSES, INPUTS, MLP_TENSORS, readMlpWeights, zeroWeights } from '../../../src/demo/mlp';
import type { MlpScratch } from '../../../src/demo/mlp-pass';
import {
  createScratch,
  drawDropoutMask,
  forward,
  lossAndGradients,
  softmaxCrossEntropy,
} from '../../../src/demo/mlp-pass';
import { seededNormal, seededUniform } from '../../../src/seeded-random';
import { fixtureBytes } from './helpers/shards';

/** Rows of the random batch: enough for the four-row blocks of both passes, and not a multiple of four. */
const BATCH = 11;
/** Coordinates checked per tensor. */
const SAMPLES = 40;
/** The central difference's step: its truncation error (~h²) and rounding error (~1e-16 / h) are both near 1e-10. */
const H = 1e-5;
/**
 * The largest relative error a right gradient shows here is 1.3e-7 (see the printed figures); a gradient off by
 * 0.1% (the wrong-gradient case below) is at 1e-3: 1e-6 lies between them, 8× above the one and 1000× below the other.
 */
const TOLERANCE = 1e-6;

/** A random normalized batch with random labels, in the scratch. */
function randomBatch(seed: number): MlpScratch {
  const scratch = createScratch(BATCH);
  const normal = seededNormal(seed);
  for (let i = 0; i < BATCH * INPUTS; i++) {
    scratch.input[i] = normal();
  }
  const uniform = seededUniform(seed + 1);
  for (let row = 0; row < BATCH; row++) {
    scratch.labels[row] = Math.floor(uniform() * CLASSES);
  }
  return scratch;
}

function loss(weights: MlpWeights, scratch: MlpScratch, dropout: boolean): number {
  forward(weights, scratch, BATCH, dropout);
  return softmaxCrossEntropy(scratch, BATCH);
}

/** Central finite differences of the loss at `SAMPLES` random coordinates of one tensor, beside the analytic values. */
function compare(
  weights: MlpWeights,
  scratch: MlpScratch,
  analytic: MlpWeights,
  key: MlpTensor,
  dropout: boolean,
): { analytic: number[]; numeric: number[] } {
  const values = weights[key];
  const uniform = seededUniform(key.length * 31 + values.length);
  const coordinates = Array.from({ length: Math.min(SAMPLES, values.length) }, () =>
    Math.floor(uniform() * values.length),
  );
  const numeric = coordinates.map((at) => {
    const kept = values[at] ?? 0;
    values[at] = kept + H;
    const up = loss(weights, scratch, dropout);
    values[at] = kept - H;
    const down = loss(weights, scratch, dropout);
    values[at] = kept;
    return (up - down) / (2 * H);
  });
  return { analytic: coordinates.map((at) => analytic[key][at] ?? 0), numeric };
}

/**
 * The largest relative error over the coordinates, |a − n| / max(|a|, |n|, 1e-7): the floor keeps coordinates whose
 * gradient is zero (an inactive hidden unit) from dividing by zero, and is far below any gradient that is not zero.
 */
function maxRelativeError(analytic: readonly number[], numeric: readonly number[]): number {
  return Math.max(
    ...analytic.map((a, i) => {
      const n = numeric[i] ?? 0;
      return Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), 1e-7);
    }),
  );
}

describe('the demo MLP backward pass against central finite differences (float64)', () => {
  let start: MlpWeights;

  beforeAll(async () => {
    start = await readMlpWeights(fixtureBytes('mlp-global-r0.onnx'));
  });

  it.each([
    ['without dropout', false],
    ['with a fixed dropout mask (rate 0.2)', true],
  ])('%s, every tensor’s gradient matches at sampled coordinates', (_, dropout) => {
    const scratch = randomBatch(dropout ? 11 : 5);
    if (dropout) {
      drawDropoutMask(scratch, BATCH, 0.2, seededUniform(3));
    }
    const grads = zeroWeights();
    lossAndGradients(start, scratch, BATCH, grads, dropout);
    const errors = MLP_TENSORS.map(({ key, name }) => {
      const { analytic, numeric } = compare(start, scratch, grads, key, dropout);
      // Enough of the sampled coordinates carry gradient for the check to mean something.
      expect(analytic.filter((a) => Math.abs(a) > 1e-6).length).toBeGreaterThan(analytic.length / 4);
      return { name, error: maxRelativeError(analytic, numeric) };
    });
    process.stdout.write(
      `gradient check ${dropout ? 'with' : 'without'} dropout, max relative error: ${errors
        .map(({ name, error }) => `${name} ${error.toExponential(1)}`)
        .join(', ')}\n`,
    );
    for (const { error } of errors) {
      expect(error).toBeLessThan(TOLERANCE);
    }
  });

  it('when a gradient is wrong by 0.1% or has its ReLU mask ignored, the same check fails', () => {
    const scratch = randomBatch(5);
    const grads = zeroWeights();
    lossAndGradients(start, scratch, BATCH, grads);
    for (const { key } of MLP_TENSORS) {
      const { analytic, numeric } = compare(start, scratch, grads, key, false);
      expect(maxRelativeError(analytic, numeric)).toBeLessThan(TOLERANCE);
      expect(
        maxRelativeError(
          analytic.map((a) => a * 1.001),
          numeric,
        ),
      ).toBeGreaterThan(100 * TOLERANCE);
    }
    // A backward pass that forgot ReLU's derivative would let gradient through the rows where a unit is inactive:
    // the check must refuse that leaked value for a unit inactive on some rows and accept the right one.
    lossAndGradients(start, scratch, BATCH, grads);
    const partly = Array.from({ length: 128 }, (_, j) => j).filter((j) =>
      Array.from({ length: BATCH }, (_, row) => scratch.hidden[row * 128 + j] ?? 0).some((h) => h === 0),
    );
    expect(partly.length).toBeGreaterThan(5);
    for (const j of partly.slice(0, 5)) {
      let leaked = 0;
      for (let row = 0; row < BATCH; row++) {
        for (let k = 0; k < CLASSES; k++) {
          leaked += (scratch.dLogits[row * CLASSES + k] ?? 0) * (start.w2[k * 128 + j] ?? 0);
        }
      }
      const kept = start.b1[j] ?? 0;
      start.b1[j] = kept + H;
      const up = loss(start, scratch, false);
      start.b1[j] = kept - H;
      const down = loss(start, scratch, false);
      start.b1[j] = kept;
      const numeric = (up - down) / (2 * H);
      expect(maxRelativeError([grads.b1[j] ?? NaN], [numeric])).toBeLessThan(TOLERANCE);
      expect(maxRelativeError([leaked], [numeric])).toBeGreaterThan(100 * TOLERANCE);
    }
  });
});

import { seededUniform } from '../seeded-random';
import type { DigitSet } from './digits';
import { digitCount, loadBatch } from './digits';
import type { MlpWeights } from './mlp';
import { copyWeights, MLP_TENSORS, zeroWeights } from './mlp';
import type { MlpScratch } from './mlp-pass';
import {
  countCorrect,
  createScratch,
  drawDropoutMask,
  forward,
  lossAndGradients,
  softmaxCrossEntropy,
} from './mlp-pass';

/** How a client trains: PyTorch's `SGD` over a shuffled `DataLoader`, as the fixture clients were trained. */
export interface TrainOptions {
  readonly epochs: number;
  /** Digits per step (32); the last batch of an epoch holds what is left, as with `drop_last=False`. */
  readonly batchSize?: number;
  /** The step size (0.05). */
  readonly learningRate?: number;
  /** PyTorch's momentum, v ← μv + g, w ← w − lr·v (0: plain SGD). */
  readonly momentum?: number;
  /** The hidden layer's dropout rate while training (0: off; the fixture model's own layer has 0.2). */
  readonly dropout?: number;
  /** Seeds the shuffles and the dropout masks: the same seed and data give the same update on every machine. */
  readonly seed: number;
}

/** The mean loss and the accuracy of a model on a set of digits, dropout off (the exported model's inference). */
export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

/** A client's local training: its new weights, its sample size for FedAvg, and its own loss before and after. */
export interface TrainResult {
  readonly weights: MlpWeights;
  /** The number of digits trained on: the update's FedAvg weight. */
  readonly sampleSize: number;
  readonly steps: number;
  /** The starting weights on the client's digits. */
  readonly before: Evaluation;
  /** The trained weights on the client's digits. */
  readonly after: Evaluation;
}

/** Digits per forward pass when evaluating: larger batches only cost scratch memory (about 1 MB per 128 rows). */
const EVAL_BATCH = 256;

/**
 * Trains the MLP on one client's digits with mini-batch SGD: each epoch a seeded Fisher–Yates shuffle, then one step
 * per batch on the batch's mean cross-entropy. The caller's weights are left unchanged.
 */
export function trainLocally(start: MlpWeights, data: DigitSet, options: TrainOptions): TrainResult {
  const count = digitCount(data);
  const batchSize = options.batchSize ?? 32;
  const learningRate = options.learningRate ?? 0.05;
  const momentum = options.momentum ?? 0;
  const dropout = options.dropout ?? 0;
  if (!(batchSize >= 1 && Number.isInteger(batchSize)) || !(dropout >= 0 && dropout < 1) || count === 0) {
    throw new RangeError(`cannot train on ${count} digits in batches of ${batchSize} with dropout ${dropout}`);
  }
  const before = evaluate(start, data);
  const weights = copyWeights(start);
  const grads = zeroWeights();
  const velocity = zeroWeights();
  const scratch = createScratch(batchSize);
  const uniform = seededUniform(options.seed);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let steps = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, uniform);
    for (let from = 0; from < count; from += batchSize) {
      const batch = Math.min(batchSize, count - from);
      loadBatch(data, order, from, batch, scratch.input, scratch.labels);
      if (dropout > 0) {
        drawDropoutMask(scratch, batch, dropout, uniform);
      }
      lossAndGradients(weights, scratch, batch, grads, dropout > 0);
      step(weights, grads, velocity, learningRate, momentum, steps === 0);
      steps++;
    }
  }
  return { weights, sampleSize: count, steps, before, after: evaluate(weights, data) };
}

/** The model's mean cross-entropy and accuracy on a set of digits, dropout off. */
export function evaluate(
  weights: MlpWeights,
  data: DigitSet,
  scratch: MlpScratch = createScratch(EVAL_BATCH),
): Evaluation {
  const count = digitCount(data);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let loss = 0;
  let correct = 0;
  for (let from = 0; from < count; from += scratch.capacity) {
    const batch = Math.min(scratch.capacity, count - from);
    loadBatch(data, order, from, batch, scratch.input, scratch.labels);
    forward(weights, scratch, batch);
    loss += softmaxCrossEntropy(scratch, batch) * batch;
    correct += countCorrect(scratch, batch);
  }
  return { loss: count === 0 ? NaN : loss / count, accuracy: count === 0 ? NaN : correct / count };
}

/**
 * One SGD update in place, as `torch.optim.SGD` does it: without momentum w ← w − lr·g; with momentum the velocity
 * starts as the first gradient (PyTorch's buffer), then v ← μv + g and w ← w − lr·v.
 */
export function step(
  weights: MlpWeights,
  grads: MlpWeights,
  velocity: MlpWeights,
  learningRate: number,
  momentum: number,
  first: boolean,
): void {
  for (const { key } of MLP_TENSORS) {
    const w = weights[key];
    const g = grads[key];
    const v = velocity[key];
    for (let i = 0; i < w.length; i++) {
      let d = g[i] ?? 0;
      if (momentum !== 0) {
        d = first ? d : momentum * (v[i] ?? 0) + d;
        v[i] = d;
      }
      w[i] = (w[i] ?? 0) - learningRate * d;
    }
  }
}

/** Fisher–Yates in place, drawing from the seeded stream. */
function shuffle(order: Int32Array, uniform: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const kept = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = kept;
  }
}

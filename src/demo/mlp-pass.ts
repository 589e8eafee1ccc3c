import type { MlpWeights } from './mlp';
import * as mlp from './mlp';

// Local copies of the layer sizes: an imported binding compiles (swc, tsx) to a getter call on every read, which in
// the inner loops made a pass four times slower.
const INPUTS = mlp.INPUTS;
const HIDDEN = mlp.HIDDEN;
const CLASSES = mlp.CLASSES;

/**
 * The buffers of one pass over a batch of up to `capacity` digits, allocated once per training and reused by every
 * step: a batch of 32 costs 3.2 million multiply-adds each way, and allocating per step (or per element) would cost
 * more in garbage collection than the arithmetic.
 */
export interface MlpScratch {
  readonly capacity: number;
  /** The batch's normalized pixels, [capacity, 784]: the caller fills the first rows. */
  readonly input: Float64Array;
  /** The batch's labels, [capacity]: the caller fills them with the input. */
  readonly labels: Int32Array;
  /** Hidden activations after ReLU and dropout, [capacity, 128]. */
  readonly hidden: Float64Array;
  /** Dropout multipliers (0, or 1 / (1 − rate) for a kept unit), [capacity, 128]; read only when dropout is on. */
  readonly mask: Float64Array;
  /** Logits, [capacity, 10]. */
  readonly logits: Float64Array;
  /** The loss's gradient with respect to the logits, then to the hidden layer's pre-activations. */
  readonly dLogits: Float64Array;
  readonly dHidden: Float64Array;
  /** The rows where one hidden unit passed gradient back, [capacity]: the backward pass's list for the unit. */
  readonly active: Int32Array;
}

/** Buffers for batches of up to `capacity` digits. */
export function createScratch(capacity: number): MlpScratch {
  return {
    capacity,
    input: new Float64Array(capacity * INPUTS),
    labels: new Int32Array(capacity),
    hidden: new Float64Array(capacity * HIDDEN),
    mask: new Float64Array(capacity * HIDDEN),
    logits: new Float64Array(capacity * CLASSES),
    dLogits: new Float64Array(capacity * CLASSES),
    dHidden: new Float64Array(capacity * HIDDEN),
    active: new Int32Array(capacity),
  };
}

/**
 * Draws an inverted-dropout mask for `batch` rows, as PyTorch's `Dropout(rate)` does in training mode: each hidden
 * unit is zeroed with probability `rate` and the kept ones scaled by 1 / (1 − rate), so inference needs no scaling.
 * The mask stays in the scratch, so a finite-difference check can evaluate the loss twice with the same one.
 */
export function drawDropoutMask(scratch: MlpScratch, batch: number, rate: number, uniform: () => number): void {
  const kept = 1 / (1 - rate);
  for (let i = 0; i < batch * HIDDEN; i++) {
    scratch.mask[i] = uniform() < rate ? 0 : kept;
  }
}

/**
 * The logits of the first `batch` rows of `scratch.input` into `scratch.logits` (keeping the hidden activations for
 * the backward pass). `dropout` applies `scratch.mask`; off, this is the exported model's inference.
 */
export function forward(weights: MlpWeights, scratch: MlpScratch, batch: number, dropout = false): void {
  const { w1, b1, w2, b2 } = weights;
  const { input, hidden, mask, logits } = scratch;
  // Weight row outside, batch rows inside: one row of w1 (6 KB) stays in L1 while the batch streams past it, and
  // four rows at a time share each weight load and keep four independent sums in flight.
  for (let j = 0; j < HIDDEN; j++) {
    const w = j * INPUTS;
    const bias = b1[j] ?? 0;
    let row = 0;
    for (; row + 4 <= batch; row += 4) {
      const x0 = row * INPUTS;
      const x1 = x0 + INPUTS;
      const x2 = x1 + INPUTS;
      const x3 = x2 + INPUTS;
      let s0 = bias;
      let s1 = bias;
      let s2 = bias;
      let s3 = bias;
      for (let i = 0; i < INPUTS; i++) {
        const weight = w1[w + i] ?? 0;
        s0 += (input[x0 + i] ?? 0) * weight;
        s1 += (input[x1 + i] ?? 0) * weight;
        s2 += (input[x2 + i] ?? 0) * weight;
        s3 += (input[x3 + i] ?? 0) * weight;
      }
      hidden[row * HIDDEN + j] = s0;
      hidden[(row + 1) * HIDDEN + j] = s1;
      hidden[(row + 2) * HIDDEN + j] = s2;
      hidden[(row + 3) * HIDDEN + j] = s3;
    }
    for (; row < batch; row++) {
      const x = row * INPUTS;
      let sum = bias;
      for (let i = 0; i < INPUTS; i++) {
        sum += (input[x + i] ?? 0) * (w1[w + i] ?? 0);
      }
      hidden[row * HIDDEN + j] = sum;
    }
  }
  for (let at = 0; at < batch * HIDDEN; at++) {
    const pre = hidden[at] ?? 0;
    hidden[at] = pre > 0 ? (dropout ? pre * (mask[at] ?? 0) : pre) : 0;
  }
  for (let row = 0; row < batch; row++) {
    const h = row * HIDDEN;
    for (let k = 0; k < CLASSES; k++) {
      const w = k * HIDDEN;
      let sum = b2[k] ?? 0;
      for (let j = 0; j < HIDDEN; j++) {
        sum += (hidden[h + j] ?? 0) * (w2[w + j] ?? 0);
      }
      logits[row * CLASSES + k] = sum;
    }
  }
}

/**
 * The mean softmax cross-entropy of the logits against `scratch.labels` (PyTorch's `CrossEntropyLoss`), computed
 * through log-sum-exp so large logits cannot overflow; writes its gradient with respect to the logits,
 * (softmax − one-hot) / batch, into `scratch.dLogits`.
 */
export function softmaxCrossEntropy(scratch: MlpScratch, batch: number): number {
  const { logits, labels, dLogits } = scratch;
  let total = 0;
  for (let row = 0; row < batch; row++) {
    const at = row * CLASSES;
    let max = -Infinity;
    for (let k = 0; k < CLASSES; k++) {
      max = Math.max(max, logits[at + k] ?? 0);
    }
    let sum = 0;
    for (let k = 0; k < CLASSES; k++) {
      sum += Math.exp((logits[at + k] ?? 0) - max);
    }
    const label = labels[row] ?? 0;
    const logSum = max + Math.log(sum);
    total += logSum - (logits[at + label] ?? 0);
    for (let k = 0; k < CLASSES; k++) {
      const p = Math.exp((logits[at + k] ?? 0) - logSum);
      dLogits[at + k] = (p - (k === label ? 1 : 0)) / batch;
    }
  }
  return total / batch;
}

/** How many of the first `batch` rows have their label as the largest logit (the first one, on a tie). */
export function countCorrect(scratch: MlpScratch, batch: number): number {
  const { logits, labels } = scratch;
  let correct = 0;
  for (let row = 0; row < batch; row++) {
    const at = row * CLASSES;
    let best = 0;
    for (let k = 1; k < CLASSES; k++) {
      if ((logits[at + k] ?? 0) > (logits[at + best] ?? 0)) {
        best = k;
      }
    }
    correct += best === labels[row] ? 1 : 0;
  }
  return correct;
}

/**
 * The gradients of the loss whose logit gradient `softmaxCrossEntropy` left in `scratch.dLogits`, for all four
 * tensors, written over `grads` (not added). Must follow `forward` on the same batch, with the same `dropout`.
 */
export function backward(
  weights: MlpWeights,
  scratch: MlpScratch,
  batch: number,
  grads: MlpWeights,
  dropout = false,
): void {
  const { w2 } = weights;
  const { input, hidden, mask, dLogits, dHidden } = scratch;
  grads.b2.fill(0);
  grads.w2.fill(0);
  dHidden.fill(0, 0, batch * HIDDEN);
  for (let row = 0; row < batch; row++) {
    const h = row * HIDDEN;
    for (let k = 0; k < CLASSES; k++) {
      const d = dLogits[row * CLASSES + k] ?? 0;
      const w = k * HIDDEN;
      grads.b2[k] = (grads.b2[k] ?? 0) + d;
      for (let j = 0; j < HIDDEN; j++) {
        grads.w2[w + j] = (grads.w2[w + j] ?? 0) + d * (hidden[h + j] ?? 0);
        dHidden[h + j] = (dHidden[h + j] ?? 0) + d * (w2[w + j] ?? 0);
      }
    }
    for (let j = 0; j < HIDDEN; j++) {
      // Back through dropout and ReLU at once: `hidden` is zero exactly where the unit was cut or not active, and
      // elsewhere it is pre × m, whose derivative is the mask m.
      const d = (hidden[h + j] ?? 0) > 0 ? (dHidden[h + j] ?? 0) : 0;
      dHidden[h + j] = dropout ? d * (mask[h + j] ?? 0) : d;
    }
  }
  const { w1: gw1, b1: gb1 } = grads;
  const { active } = scratch;
  for (let j = 0; j < HIDDEN; j++) {
    // Only the rows where the unit passed gradient (about half, after ReLU) add to its weights' gradient.
    let count = 0;
    let bias = 0;
    for (let row = 0; row < batch; row++) {
      const d = dHidden[row * HIDDEN + j] ?? 0;
      if (d !== 0) {
        active[count++] = row;
        bias += d;
      }
    }
    gb1[j] = bias;
    const w = j * INPUTS;
    gw1.fill(0, w, w + INPUTS);
    // Four rows per sweep over the gradient row: a quarter of the loads and stores of one row at a time.
    let n = 0;
    for (; n + 4 <= count; n += 4) {
      const r0 = active[n] ?? 0;
      const r1 = active[n + 1] ?? 0;
      const r2 = active[n + 2] ?? 0;
      const r3 = active[n + 3] ?? 0;
      const d0 = dHidden[r0 * HIDDEN + j] ?? 0;
      const d1 = dHidden[r1 * HIDDEN + j] ?? 0;
      const d2 = dHidden[r2 * HIDDEN + j] ?? 0;
      const d3 = dHidden[r3 * HIDDEN + j] ?? 0;
      const x0 = r0 * INPUTS;
      const x1 = r1 * INPUTS;
      const x2 = r2 * INPUTS;
      const x3 = r3 * INPUTS;
      for (let i = 0; i < INPUTS; i++) {
        gw1[w + i] =
          (gw1[w + i] ?? 0) +
          (d0 * (input[x0 + i] ?? 0) +
            d1 * (input[x1 + i] ?? 0) +
            (d2 * (input[x2 + i] ?? 0) + d3 * (input[x3 + i] ?? 0)));
      }
    }
    for (; n < count; n++) {
      const row = active[n] ?? 0;
      const d = dHidden[row * HIDDEN + j] ?? 0;
      const x = row * INPUTS;
      for (let i = 0; i < INPUTS; i++) {
        gw1[w + i] = (gw1[w + i] ?? 0) + d * (input[x + i] ?? 0);
      }
    }
  }
}

/** The loss of one batch and its gradients in `grads`: forward, cross-entropy, backward. */
export function lossAndGradients(
  weights: MlpWeights,
  scratch: MlpScratch,
  batch: number,
  grads: MlpWeights,
  dropout = false,
): number {
  forward(weights, scratch, batch, dropout);
  const loss = softmaxCrossEntropy(scratch, batch);
  backward(weights, scratch, batch, grads, dropout);
  return loss;
}

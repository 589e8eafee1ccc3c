import type { ReferenceTensor } from './reference-onnx';

/** Σ n_i y_i / Σ n_i per tensor, in float64, straight from the formula (no folding, no shared code). */
export function weightedMean(
  clients: readonly { tensors: ReadonlyMap<string, ReferenceTensor>; sampleSize: number }[],
): Map<string, Float64Array> {
  const total = clients.reduce((sum, client) => sum + client.sampleSize, 0);
  const out = new Map<string, Float64Array>();
  for (const [name, first] of clients[0]?.tensors ?? new Map<string, ReferenceTensor>()) {
    const mean = new Float64Array(first.values.length);
    for (let i = 0; i < mean.length; i++) {
      let sum = 0;
      for (const client of clients) {
        sum += client.sampleSize * (client.tensors.get(name)?.values[i] ?? NaN);
      }
      mean[i] = sum / total;
    }
    out.set(name, mean);
  }
  return out;
}

/** The MLP (Flatten, Linear 784-128, ReLU, Linear 128-10) in float64; torch's Linear is y = x Wᵀ + b. */
export function mlpForward(
  weights: ReadonlyMap<string, ArrayLike<number>>,
  input: Float64Array,
  batch: number,
): number[][] {
  const w1 = tensor(weights, '1.weight');
  const b1 = tensor(weights, '1.bias');
  const w2 = tensor(weights, '4.weight');
  const b2 = tensor(weights, '4.bias');
  const logits: number[][] = [];
  for (let n = 0; n < batch; n++) {
    const hidden = Array.from({ length: 128 }, (_, j) => {
      let sum = b1[j] ?? NaN;
      for (let k = 0; k < 784; k++) {
        sum += (w1[j * 784 + k] ?? NaN) * (input[n * 784 + k] ?? NaN);
      }
      return Math.max(0, sum);
    });
    logits.push(
      Array.from({ length: 10 }, (_, o) =>
        hidden.reduce((sum, h, j) => sum + (w2[o * 128 + j] ?? NaN) * h, b2[o] ?? NaN),
      ),
    );
  }
  return logits;
}

function tensor(weights: ReadonlyMap<string, ArrayLike<number>>, name: string): ArrayLike<number> {
  const values = weights.get(name);
  if (values === undefined) {
    throw new Error(`no tensor ${name}`);
  }
  return values;
}

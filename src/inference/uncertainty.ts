import { sampleAxis } from './output-ops';
import { type FloatTensor, mapValues } from './tensor';

/**
 * The reference's uncertainty figures (docs/inference.md#the-answer). Keys are the reference's JSON names, so the
 * route can present them as they are.
 */
export interface UncertaintyFigures {
  /** Unbiased sample variance over the samples, per output element; NaN everywhere for a single sample. */
  readonly variance: FloatTensor;
  readonly std: FloatTensor;
  /** H(mean over samples of p), one per row; only when every output lies in [0, 1]. */
  readonly predictive_entropy?: FloatTensor;
  /** Mean over samples of H(p), one per row; only when every output lies in [0, 1]. */
  readonly expected_entropy?: FloatTensor;
  /** predictive_entropy − expected_entropy. */
  readonly mutual_info?: FloatTensor;
}

/**
 * The figures over stacked outputs [S, ...rest] (S samples, usually rest = [B, C]), computed in float64. Variance
 * divides by S − 1 as the reference (torch.var) does, so one sample gives NaN: the figure is undefined, not zero.
 * Entropies are added only when every output is a probability (in [0, 1]); each distribution along the last
 * dimension is renormalized to sum 1, as torch's Categorical does, with natural log and 0·log 0 = 0.
 */
export function interpretUncertainty(stacked: FloatTensor): UncertaintyFigures {
  const { variance, std } = sampleVariance(stacked);
  if (!stacked.data.every((value) => value >= 0 && value <= 1)) {
    return { variance, std };
  }
  const { count, size, rest } = sampleAxis(stacked);
  const width = rest[rest.length - 1] ?? 1;
  const rows = width === 0 ? 0 : size / width;
  const predictive = new Float64Array(rows);
  const expected = new Float64Array(rows);
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    mean.fill(0);
    for (let s = 0; s < count; s++) {
      const row = stacked.data.subarray(s * size + r * width, s * size + (r + 1) * width);
      row.forEach((p, c) => (mean[c] = (mean[c] ?? 0) + p / count));
      expected[r] = (expected[r] ?? 0) + categoricalEntropy(row) / count;
    }
    predictive[r] = categoricalEntropy(mean);
  }
  const dims = rest.slice(0, -1);
  return {
    variance,
    std,
    predictive_entropy: { dims, data: Float32Array.from(predictive) },
    expected_entropy: { dims, data: Float32Array.from(expected) },
    mutual_info: { dims, data: mapValues(predictive, (h, r) => h - (expected[r] ?? 0), Float32Array) },
  };
}

/** −Σ q log q of the distribution `p` renormalized to sum 1 (NaN when it sums to 0), with 0·log 0 = 0. */
export function categoricalEntropy(p: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    total += p[i] ?? 0;
  }
  let entropy = 0;
  for (let i = 0; i < p.length; i++) {
    const q = (p[i] ?? 0) / total;
    entropy -= q === 0 ? 0 : q * Math.log(q);
  }
  return entropy;
}

/**
 * Unbiased variance and std over the first axis in float64, shifted by the first sample (Σd² − (Σd)²/S over
 * d = x − x₀): as exact as a two-pass sum when std ≪ mean, and identical samples give exactly 0.
 */
function sampleVariance(stacked: FloatTensor): { variance: FloatTensor; std: FloatTensor } {
  const { count, size, rest } = sampleAxis(stacked);
  const sums = new Float64Array(size);
  const squares = new Float64Array(size);
  for (let s = 1; s < count; s++) {
    for (let i = 0; i < size; i++) {
      const delta = (stacked.data[s * size + i] ?? 0) - (stacked.data[i] ?? 0);
      sums[i] = (sums[i] ?? 0) + delta;
      squares[i] = (squares[i] ?? 0) + delta * delta;
    }
  }
  // Rounding can leave a hair below zero; Math.max keeps the NaN of a single sample.
  const variance = mapValues(squares, (square, i) => Math.max((square - (sums[i] ?? 0) ** 2 / count) / (count - 1), 0));
  return {
    variance: { dims: rest, data: Float32Array.from(variance) },
    std: { dims: rest, data: mapValues(variance, Math.sqrt, Float32Array) },
  };
}

import type { FloatTensor } from './tensor';
import { elementCount, mapValues } from './tensor';

/**
 * Stacks same-shaped outputs (one per stochastic pass or sampled model) into one tensor [S, ...dims], the shape the
 * uncertainty figures read. Throws when there are none or their shapes differ.
 */
export function stackSamples(samples: readonly FloatTensor[]): FloatTensor {
  const first = samples[0];
  if (first === undefined) {
    throw new Error('there are no samples to stack');
  }
  const size = elementCount(first.dims);
  const data = new Float32Array(samples.length * size);
  samples.forEach((sample, s) => {
    if (sample.dims.length !== first.dims.length || sample.dims.some((dim, i) => dim !== first.dims[i])) {
      throw new Error(`sample ${s} has shape [${sample.dims.join(', ')}], not [${first.dims.join(', ')}]`);
    }
    data.set(sample.data, s * size);
  });
  return { dims: [samples.length, ...first.dims], data };
}

/** The mean over the first axis of stacked outputs [S, ...rest]: shape rest, summed in float64. */
export function meanOverSamples(stacked: FloatTensor): FloatTensor {
  const { count, size, rest } = sampleAxis(stacked);
  const sum = new Float64Array(size);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < size; i++) {
      sum[i] = (sum[i] ?? 0) + (stacked.data[s * size + i] ?? 0);
    }
  }
  return { dims: rest, data: mapValues(sum, (value) => value / count, Float32Array) };
}

/** The softmax along the last dimension, computed in float64 after subtracting each row's maximum. */
export function softmax(tensor: FloatTensor): FloatTensor {
  const width = lastDim(tensor);
  const out = new Float32Array(tensor.data.length);
  for (let row = 0; row < tensor.data.length; row += width) {
    let max = -Infinity;
    for (let i = row; i < row + width; i++) {
      max = Math.max(max, tensor.data[i] ?? 0);
    }
    let total = 0;
    for (let i = row; i < row + width; i++) {
      total += Math.exp((tensor.data[i] ?? 0) - max);
    }
    for (let i = row; i < row + width; i++) {
      out[i] = Math.exp((tensor.data[i] ?? 0) - max) / total;
    }
  }
  return { dims: tensor.dims, data: out };
}

/**
 * The index of the largest value along the last dimension (the first one on ties), as the reference returns for
 * NONE inference on a [B, C] output: shape [B], class indices as floats.
 */
export function argmaxLastDim(tensor: FloatTensor): FloatTensor {
  const width = lastDim(tensor);
  const out = new Float32Array(width === 0 ? 0 : tensor.data.length / width);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) {
      if ((tensor.data[r * width + i] ?? 0) > (tensor.data[r * width + best] ?? 0)) {
        best = i;
      }
    }
    out[r] = best;
  }
  return { dims: tensor.dims.slice(0, -1), data: out };
}

/** The sample count, the elements per sample and the per-sample dims of stacked outputs. */
export function sampleAxis(stacked: FloatTensor): { count: number; size: number; rest: number[] } {
  const [count, ...rest] = stacked.dims;
  if (count === undefined || count < 1) {
    throw new Error(`stacked outputs need a sample axis of length >= 1, got shape [${stacked.dims.join(', ')}]`);
  }
  return { count, size: elementCount(rest), rest };
}

function lastDim(tensor: FloatTensor): number {
  const width = tensor.dims[tensor.dims.length - 1];
  if (width === undefined) {
    throw new Error('a scalar has no last dimension');
  }
  return width;
}

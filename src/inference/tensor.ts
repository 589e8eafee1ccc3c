/**
 * A float32 tensor as inference moves it around: row-major values and their dimensions. Inputs are decoded into
 * one, outputs and uncertainty figures come back as them, and `worker_threads` can transfer its buffer.
 */
export interface FloatTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** The number of elements `dims` describes (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

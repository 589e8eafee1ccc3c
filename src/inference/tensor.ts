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

/**
 * `Float64Array.from(values, fn)` (or `Float32Array`'s with `into`) by a plain loop: `from` with a mapping function
 * goes through the iterator protocol, which measured 10 to 14 times slower (1.2 million values, a SWAG draw of the
 * CNN's weights: 430-730 ms against 31-51 ms; 640 values: 0.11 against 0.01 ms).
 */
export function mapValues<T extends Float32Array | Float64Array = Float64Array>(
  values: ArrayLike<number>,
  fn: (value: number, index: number) => number,
  into?: new (length: number) => T,
): T {
  const out = new (into ?? Float64Array)(values.length) as T;
  for (let i = 0; i < values.length; i++) {
    out[i] = fn(values[i] ?? 0, i);
  }
  return out;
}

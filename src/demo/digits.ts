import { CLASSES, INPUTS } from './mlp';

/** The fixture models' input normalization (their README): pixels scaled to 0..1, then (x − mean) / std. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3015;

/** A client's digits: `pixels` holds n × 784 values 0..255, row-major, `labels` the n digit classes. */
export interface DigitSet {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array | readonly number[];
}

/** The normalized value of each pixel byte, so loading a batch is a table look-up per pixel, not a division. */
const NORMALIZED = Float64Array.from({ length: 256 }, (_, p) => (p / 255 - MNIST_MEAN) / MNIST_STD);

/** The number of digits in a set, after checking that pixels and labels agree and every label is a class. */
export function digitCount(data: DigitSet): number {
  const count = data.labels.length;
  if (data.pixels.length !== count * INPUTS) {
    throw new RangeError(`${data.pixels.length} pixels for ${count} labels; each digit has ${INPUTS}`);
  }
  for (let i = 0; i < count; i++) {
    const label = data.labels[i] ?? -1;
    if (!Number.isInteger(label) || label < 0 || label >= CLASSES) {
      throw new RangeError(`label ${label} at digit ${i} is not a class 0..${CLASSES - 1}`);
    }
  }
  return count;
}

/**
 * Copies `count` digits, `order[from]` onwards, into the first rows of `input` (normalized) and `labels`: the batch
 * buffers are reused from step to step, so a training step allocates nothing.
 */
export function loadBatch(
  data: DigitSet,
  order: ArrayLike<number>,
  from: number,
  count: number,
  input: Float64Array,
  labels: Int32Array,
): void {
  const { pixels } = data;
  for (let row = 0; row < count; row++) {
    const digit = order[from + row] ?? 0;
    const source = digit * INPUTS;
    const target = row * INPUTS;
    for (let p = 0; p < INPUTS; p++) {
      input[target + p] = NORMALIZED[pixels[source + p] ?? 0] ?? 0;
    }
    labels[row] = data.labels[digit] ?? 0;
  }
}

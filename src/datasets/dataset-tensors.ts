import { safetensorsParts, type SafetensorToWrite } from '../aggregation/safetensors';
import { datasetRefusal } from '../errors';
import { ELEMENT_BYTES, toFloat64 } from '../inference/input/element-types';
import { findNonFinite } from '../onnx/float/encoding';
import { type DatasetDtype, elementType, isFloatDtype, safetensorsDtype } from './dtypes';

/** One tensor of a dataset as it is stored: its dtype, its full shape (rows first) and little-endian row-major bytes. */
export interface DatasetTensor {
  readonly dtype: DatasetDtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A dataset's inputs `x` and targets `y`, one row of each per example. */
export interface DatasetTensors {
  readonly x: DatasetTensor;
  readonly y: DatasetTensor;
}

/** The most dimensions `x` may have (as model inputs). */
const MAX_RANK = 8;

/** Elements converted at once by the finiteness scan: 8 MiB of float64, whatever the dataset's size. */
const SCAN_CHUNK = 1 << 20;

/**
 * Checks what every dataset must be: `x` with rows and at most 8 dimensions, `y` with 1 (a label or target per row) or
 * 2 (a vector per row), the same number of rows (at least one) in both, no empty dimension, finite float values.
 * @throws 400 `dataset_shape`, `dataset_rows` or `dataset_not_finite` saying what to fix.
 */
export function checkDatasetTensors({ x, y }: DatasetTensors): void {
  checkShape('x', x.shape, 1, MAX_RANK, 'it needs at least one dimension, the rows');
  checkShape('y', y.shape, 1, 2, 'it must have 1 dimension (a label or target per row) or 2 (a vector per row)');
  const [xRows = 0] = x.shape;
  const [yRows = 0] = y.shape;
  if (xRows !== yRows) {
    throw datasetRefusal(
      'dataset_rows',
      `x has ${xRows} rows but y has ${yRows}: their first dimensions must be equal, one row per example.`,
    );
  }
  if (xRows === 0) {
    throw datasetRefusal('dataset_rows', 'The dataset has no rows: x and y need a first dimension of at least 1.');
  }
  for (const dim of [...x.shape.slice(1), ...y.shape.slice(1)]) {
    if (dim === 0) {
      throw datasetRefusal(
        'dataset_shape',
        `x has shape [${x.shape.join(', ')}] and y [${y.shape.join(', ')}]: only the first dimension may be 0.`,
      );
    }
  }
  checkFinite('x', x);
  checkFinite('y', y);
}

/** The dataset as one safetensors file (`x`, then `y`, no metadata), in parts that reuse the tensors' bytes. */
export function datasetFileParts({ x, y }: DatasetTensors): Uint8Array[] {
  const stored = (tensor: DatasetTensor): SafetensorToWrite => ({
    dtype: safetensorsDtype(tensor.dtype),
    shape: tensor.shape,
    bytes: tensor.bytes,
  });
  return safetensorsParts(
    new Map([
      ['x', stored(x)],
      ['y', stored(y)],
    ]),
  );
}

function checkShape(name: string, shape: readonly number[], min: number, max: number, rule: string): void {
  if (shape.length < min || shape.length > max) {
    throw datasetRefusal('dataset_shape', `${name} has shape [${shape.join(', ')}]; ${rule}.`);
  }
}

function checkFinite(name: string, tensor: DatasetTensor): void {
  if (!isFloatDtype(tensor.dtype)) {
    return;
  }
  const type = elementType(tensor.dtype);
  const width = ELEMENT_BYTES[type];
  const elements = tensor.bytes.length / width;
  const rowElements = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let start = 0; start < elements; start += SCAN_CHUNK) {
    const count = Math.min(SCAN_CHUNK, elements - start);
    const values = toFloat64(tensor.bytes.subarray(start * width, (start + count) * width), type, true, count);
    const bad = findNonFinite(values);
    if (bad >= 0) {
      const at = start + bad;
      throw datasetRefusal(
        'dataset_not_finite',
        `${name} holds ${values[bad]} in row ${Math.floor(at / rowElements)} (element ${at}); ` +
          'a dataset must hold finite numbers only.',
      );
    }
  }
}

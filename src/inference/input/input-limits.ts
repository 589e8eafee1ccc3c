import { findNonFinite } from '../../onnx/float/encoding';
import { inputError } from '../../errors';

/** Bounds on what one inference request may decode to, so a small body cannot claim a huge allocation. */
export interface InputLimits {
  /** Most elements a decoded tensor may hold. */
  readonly maxElements: number;
  /** Most pixels (width × height) an image may have. */
  readonly maxPixels: number;
}

/** 16 Mi elements (64 MiB of float32) and 16 megapixels. */
export const DEFAULT_INPUT_LIMITS: InputLimits = { maxElements: 16 * 1024 * 1024, maxPixels: 16_000_000 };

/** The most dimensions an input may have; ONNX models rarely take more than 5. */
export const MAX_RANK = 8;

/**
 * Checks dimensions before anything is allocated for them: rank 1..MAX_RANK, every dimension positive, at most
 * `limits.maxElements` elements.
 * @returns the element count.
 */
export function checkDims(dims: readonly number[], limits: InputLimits): number {
  if (dims.length < 1 || dims.length > MAX_RANK) {
    throw inputError(
      'bad_rank',
      `Model input has ${dims.length} dimensions; between 1 and ${MAX_RANK} are accepted (shape [${dims.join(', ')}]).`,
    );
  }
  if (dims.some((dim) => dim === 0)) {
    throw inputError('empty', `Model input is empty: its shape [${dims.join(', ')}] has a zero dimension.`);
  }
  const elements = dims.reduce((product, dim) => product * dim, 1);
  if (elements > limits.maxElements) {
    throw inputError(
      'too_large',
      `Model input has ${elements} elements (shape [${dims.join(', ')}]); at most ${limits.maxElements} are accepted.`,
    );
  }
  return elements;
}

/** Refuses NaN and ±Infinity, which a model would only turn into meaningless outputs. */
export function checkFinite(data: Float32Array): void {
  const bad = findNonFinite(data);
  if (bad >= 0) {
    throw inputError(
      'not_numeric',
      `Model input holds ${data[bad]} at element ${bad}; only finite numbers are accepted.`,
    );
  }
}

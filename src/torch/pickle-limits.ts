import { TorchArchiveError } from './errors';

/** Bounds that keep a hostile pickle from costing more than a model's structure needs. */
export const PICKLE_LIMITS = {
  /** Memo entries (PyTorch memoizes every value: a few per tensor). */
  memo: 1_000_000,
  /** Values on the stack at once, marks included. */
  stack: 100_000,
  /** Bytes in one string (keys, class names, locations). */
  string: 64 * 1024,
  /** Bytes in a `GLOBAL` line. */
  globalLine: 1024,
  /** Tensors rebuilt. */
  tensors: 100_000,
} as const;

/** Thrown when a pickle exceeds one of `PICKLE_LIMITS`; `why` says which. */
export function limit(why: string): TorchArchiveError {
  return new TorchArchiveError('torch_pickle_limit', `the pickle is refused because ${why}.`);
}

import { AggregationError } from '../aggregation/errors';
import { formatTensorInfo } from './manifest';
import type { StructureEntry } from './structure';

/**
 * Collects a model's structure entries and, given the global model's, compares each one as it arrives, so an
 * update is refused at its first difference (named by node or tensor) without holding the update.
 */
export class StructureMatcher {
  readonly entries: StructureEntry[] = [];

  constructor(private readonly expected?: readonly StructureEntry[]) {}

  /** Records an entry; throws a graph or manifest mismatch when it differs from the expected one. */
  push(entry: StructureEntry): void {
    const index = this.entries.length;
    this.entries.push(entry);
    if (this.expected === undefined) {
      return;
    }
    const want = this.expected[index];
    if (want === undefined) {
      throw mismatch(entry, entry, `the update has ${entry.label}, which the global model lacks`);
    }
    if (want.hash === entry.hash) {
      return;
    }
    if (want.tensor !== undefined && entry.tensor !== undefined) {
      throw mismatch(
        want,
        entry,
        `the update's initializer ${formatTensorInfo(entry.tensor)} does not match the global model's ${formatTensorInfo(want.tensor)}`,
      );
    }
    const message =
      want.label === entry.label
        ? `the update's ${want.label} differs from the global model's`
        : `the update has ${entry.label} where the global model has ${want.label}`;
    throw mismatch(want, entry, message);
  }

  /** Throws when the update ended before every expected entry was seen. */
  finish(): void {
    const want = this.expected?.[this.entries.length];
    if (want !== undefined) {
      throw mismatch(want, want, `the update lacks ${want.label} of the global model`);
    }
  }
}

function mismatch(want: StructureEntry, got: StructureEntry, message: string): AggregationError {
  const tensor = want.tensor ?? got.tensor;
  if (tensor !== undefined) {
    return new AggregationError('model_manifest_mismatch', message, { tensor: tensor.name });
  }
  return new AggregationError('model_graph_mismatch', message, { node: want.label });
}

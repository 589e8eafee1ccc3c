import { AggregationError } from './errors';
import type { ClientUpdate } from './strategies/strategy';

/**
 * Validates the updates of a round and puts them in the engine's fixed order: by client id, compared by code
 * units (never by locale), so the same inputs give the same bytes on every machine.
 */
export function orderUpdates(updates: readonly ClientUpdate[]): ClientUpdate[] {
  if (updates.length === 0) {
    throw new AggregationError('aggregation_no_updates', 'there are no updates to aggregate');
  }
  for (const update of updates) {
    if (!(Number.isFinite(update.sampleSize) && update.sampleSize > 0)) {
      const message = `the sample size of client "${update.clientId}" is ${update.sampleSize}; it must be a positive number`;
      throw new AggregationError('aggregation_invalid_sample_size', message, { clientId: update.clientId });
    }
  }
  const sorted = [...updates].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const id = sorted[i]?.clientId;
    if (id !== undefined && id === sorted[i - 1]?.clientId) {
      throw new AggregationError('aggregation_duplicate_client', `client "${id}" has more than one update`, {
        clientId: id,
      });
    }
  }
  return sorted;
}

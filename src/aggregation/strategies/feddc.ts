import { foldWeightedMean } from '../weighted-mean';
import type { AggregationStrategy } from './strategy';

/**
 * FedDC (Kamp et al., daisy-chaining): when a FedDC training aggregates, it takes the FedAvg of the round's updates.
 * The daisy chain itself (which participant trains which model between aggregations) is the training workflow's
 * plan, set by the training options `daisy_chain_period` and `aggregation_period`; the engine has no parameters.
 */
export const fedDcStrategy: AggregationStrategy = {
  method: 'FedDC',
  params: [],
  combine: async (context) => ({ tensors: await foldWeightedMean(context.globalSummary, context.updates) }),
};

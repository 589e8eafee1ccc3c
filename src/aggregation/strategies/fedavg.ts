import { foldWeightedMean } from '../weighted-mean';
import type { AggregationStrategy } from './strategy';

/** FedAvg (McMahan et al.): x̄ = Σ n_i y_i / Σ n_i, as Flower defines it. No parameters. */
export const fedAvgStrategy: AggregationStrategy = {
  method: 'FedAvg',
  params: [],
  combine: async (context) => ({ tensors: await foldWeightedMean(context.globalSummary, context.updates) }),
};

import { combineWithServerStep, fedAvgMStep } from './server-optimizer';
import type { AggregationStrategy } from './strategy';

/** FedAvgM (Hsu et al. 2019): FedAvg followed by a server SGD step with momentum, Flower's names and defaults. */
export const fedAvgMStrategy: AggregationStrategy = {
  method: 'FedAvgM',
  stateful: true,
  params: [
    { name: 'server_learning_rate', description: 'server learning rate η_s', default: 1, min: 0 },
    {
      name: 'server_momentum',
      description: 'server momentum μ; 0 with η_s = 1 makes FedAvgM plain FedAvg',
      default: 0,
      min: 0,
      max: 1,
    },
  ],
  combine: (context) => combineWithServerStep(context, fedAvgMStep),
};

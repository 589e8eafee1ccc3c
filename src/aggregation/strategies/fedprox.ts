import { foldWeightedMean } from '../weighted-mean';
import type { AggregationStrategy } from './strategy';

/**
 * FedProx (Li et al.): the server side is FedAvg. `proximal_mu` is the clients' business (the proximal term in
 * their loss); it is declared here so it is validated with the method and sent to clients in round-start bodies.
 */
export const fedProxStrategy: AggregationStrategy = {
  method: 'FedProx',
  params: [
    {
      name: 'proximal_mu',
      description: 'weight μ of the clients\u2019 proximal term (μ/2)·‖w − w_t‖²; 0 makes FedProx plain FedAvg',
      default: 0,
      min: 0,
    },
  ],
  combine: async (context) => ({ tensors: await foldWeightedMean(context.globalSummary, context.updates) }),
};

import type { ParamSpec } from './params';
import { combineWithServerStep, type FedOptVariant, fedOptStep } from './server-optimizer';
import type { AggregationStrategy } from './strategy';

/** The FedOpt parameters with one variant's defaults (Flower's Message API; τ = 1e-3). */
function fedOptParams(defaults: { eta: number; etaL: number; betas?: [number, number] }): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: 'eta', description: 'server learning rate η', default: defaults.eta, min: 0 },
    {
      name: 'eta_l',
      description: 'client learning rate η_l (kept for parity with Flower; the server does not use it)',
      default: defaults.etaL,
      min: 0,
    },
  ];
  if (defaults.betas) {
    specs.push(
      { name: 'beta_1', description: 'first-moment decay β1', default: defaults.betas[0], min: 0, max: 1 },
      { name: 'beta_2', description: 'second-moment decay β2', default: defaults.betas[1], min: 0, max: 1 },
    );
  }
  specs.push({ name: 'tau', description: 'adaptivity τ added to √v', default: 1e-3, min: 0 });
  return specs;
}

function fedOpt(method: string, variant: FedOptVariant, params: ParamSpec[]): AggregationStrategy {
  return {
    method,
    stateful: true,
    params,
    combine: (context) => combineWithServerStep(context, fedOptStep(variant)),
  };
}

/** FedAdagrad (Reddi et al. 2020): v accumulates Δ². */
export const fedAdagradStrategy = fedOpt('FedAdagrad', 'adagrad', fedOptParams({ eta: 0.1, etaL: 0.1 }));
/** FedAdam: Adam moments with Flower's bias correction. */
export const fedAdamStrategy = fedOpt('FedAdam', 'adam', fedOptParams({ eta: 0.1, etaL: 0.1, betas: [0.9, 0.99] }));
/** FedYogi: Yogi's additive second moment, no bias correction. */
export const fedYogiStrategy = fedOpt('FedYogi', 'yogi', fedOptParams({ eta: 0.01, etaL: 0.0316, betas: [0.9, 0.99] }));

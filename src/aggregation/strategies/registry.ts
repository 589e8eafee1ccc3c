import { AggregationError } from '../errors';
import { fedAvgStrategy } from './fedavg';
import { fedAvgMStrategy } from './fedavgm';
import { fedDcStrategy } from './feddc';
import { fedAdagradStrategy, fedAdamStrategy, fedYogiStrategy } from './fedopt';
import { fedProxStrategy } from './fedprox';
import { bulyanStrategy, fedMedianStrategy, fedTrimmedAvgStrategy, krumStrategy, multiKrumStrategy } from './robust';
import type { AggregationStrategy } from './strategy';

/**
 * Every implemented aggregation method, as trainings spell them; the first three are the reference's. This one list
 * feeds the API's enum, the OpenAPI document and the database CHECK (src/db/derived-checks.ts).
 */
export const AGGREGATION_METHODS = [
  'FedAvg',
  'FedDC',
  'FedProx',
  'FedAvgM',
  'FedAdagrad',
  'FedAdam',
  'FedYogi',
  'FedMedian',
  'FedTrimmedAvg',
  'Krum',
  'MultiKrum',
  'Bulyan',
] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

/** The strategy of each method; a new strategy adds its name above and one line here. */
const BY_METHOD: Readonly<Record<AggregationMethod, AggregationStrategy>> = {
  FedAvg: fedAvgStrategy,
  FedDC: fedDcStrategy,
  FedProx: fedProxStrategy,
  FedAvgM: fedAvgMStrategy,
  FedAdagrad: fedAdagradStrategy,
  FedAdam: fedAdamStrategy,
  FedYogi: fedYogiStrategy,
  FedMedian: fedMedianStrategy,
  FedTrimmedAvg: fedTrimmedAvgStrategy,
  Krum: krumStrategy,
  MultiKrum: multiKrumStrategy,
  Bulyan: bulyanStrategy,
};

/** The strategies keyed by lower-cased method name, so lookups accept any case. */
const STRATEGIES: ReadonlyMap<string, AggregationStrategy> = new Map(
  AGGREGATION_METHODS.map((method) => [method.toLowerCase(), BY_METHOD[method]]),
);

/** The implemented methods, as trainings spell them (`FedAvg`, `FedProx`). */
export function aggregationMethods(): string[] {
  return [...AGGREGATION_METHODS];
}

/** The strategy for a method name in any case (`fedavg`, `FedAvg`), or undefined. */
export function findStrategy(method: string): AggregationStrategy | undefined {
  return STRATEGIES.get(method.toLowerCase());
}

/** Like `findStrategy`, but an unknown method is an `aggregation_unknown_method` error listing the known ones. */
export function requireStrategy(method: string): AggregationStrategy {
  const strategy = findStrategy(method);
  if (strategy === undefined) {
    const message = `unknown aggregation method "${method}"; implemented: ${aggregationMethods().join(', ')}`;
    throw new AggregationError('aggregation_unknown_method', message);
  }
  return strategy;
}

import { AggregationError } from '../errors';
import { fedAvgStrategy } from './fedavg';
import { fedAvgMStrategy } from './fedavgm';
import { fedDcStrategy } from './feddc';
import { fedAdagradStrategy, fedAdamStrategy, fedYogiStrategy } from './fedopt';
import { fedProxStrategy } from './fedprox';
import { bulyanStrategy, fedMedianStrategy, fedTrimmedAvgStrategy, krumStrategy, multiKrumStrategy } from './robust';
import type { AggregationStrategy } from './strategy';

/** Every implemented strategy, keyed by its lower-cased method name. A new strategy adds one line here. */
const STRATEGIES: ReadonlyMap<string, AggregationStrategy> = new Map(
  [
    fedAvgStrategy,
    fedDcStrategy,
    fedProxStrategy,
    fedAvgMStrategy,
    fedAdagradStrategy,
    fedAdamStrategy,
    fedYogiStrategy,
    fedMedianStrategy,
    fedTrimmedAvgStrategy,
    krumStrategy,
    multiKrumStrategy,
    bulyanStrategy,
  ].map((strategy) => [strategy.method.toLowerCase(), strategy]),
);

/** The implemented methods, as trainings spell them (`FedAvg`, `FedProx`). */
export function aggregationMethods(): string[] {
  return [...STRATEGIES.values()].map((strategy) => strategy.method);
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

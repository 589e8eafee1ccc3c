import type { ModelSource } from '../model-source';
import type { ModelSummary } from '../model-summary';
import type { ParamSpec, StrategyParams } from './params';

/** One client's update: its bytes (re-openable) and its weight. */
export interface ClientUpdate {
  readonly clientId: string;
  /** The number of training examples behind the update (FedAvg's weight); positive. */
  readonly sampleSize: number;
  readonly source: ModelSource;
}

/** Everything a strategy gets for one round. */
export interface AggregationContext {
  /** The round's global model x_t (FedOpt and FedAvgM need its values, not only its shape). */
  readonly global: ModelSource;
  readonly globalSummary: ModelSummary;
  /** Sorted by client id (code-unit order), ids unique, sample sizes positive: a fixed order for bit-exact results. */
  readonly updates: readonly ClientUpdate[];
  /** Validated, defaults filled in. */
  readonly params: StrategyParams;
}

/** New float64 values for every float initializer of the global model, by name. */
export type AggregatedTensors = Map<string, Float64Array>;

/**
 * An aggregation method. Each one validates its own parameters (by `params`) and computes new weights; the engine
 * handles ordering, checks and writing, so a new strategy is one file plus one registry line. Strategies that need
 * state across rounds (FedOpt moments, momentum) will receive and return it through the context and result.
 */
export interface AggregationStrategy {
  /** The method name as trainings spell it (`FedAvg`); lookups ignore case. */
  readonly method: string;
  readonly params: readonly ParamSpec[];
  combine(context: AggregationContext): Promise<AggregatedTensors>;
}

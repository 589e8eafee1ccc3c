import type { ModelSource } from '../../onnx/model-source';
import type { ModelSummary } from '../../onnx/summary';
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
  /** What this strategy returned last round (server momentum, moments); undefined in its first round. */
  readonly state?: StrategyState;
  /** Coordinates per update the rules that need every update at once hold at a time (`DEFAULT_CHUNK_SIZE`). */
  readonly chunkSize?: number;
}

/**
 * Model-sized state a strategy keeps between rounds: float64 slots named `<slot>/<tensor>` (`m/fc.weight`) and the
 * number of server steps taken. The caller stores it (a blob) and hands it back the next round.
 */
export interface StrategyState {
  readonly step: number;
  readonly tensors: ReadonlyMap<string, Float64Array>;
}

/** A round's new weights and, for stateful strategies, the state for the next round. */
export interface CombineResult {
  readonly tensors: AggregatedTensors;
  readonly state?: StrategyState;
}

/** New float64 values for every float initializer of the global model, by name. */
export type AggregatedTensors = Map<string, Float64Array>;

/**
 * An aggregation method. Each one validates its own parameters (by `params`) and computes new weights; the engine
 * handles ordering, checks and writing, so a new strategy is one file plus one registry line. Strategies that need
 * state across rounds (FedOpt moments, momentum) receive it in the context and return the next one.
 */
export interface AggregationStrategy {
  /** The method name as trainings spell it (`FedAvg`); lookups ignore case. */
  readonly method: string;
  readonly params: readonly ParamSpec[];
  /** True when the strategy keeps state between rounds: a caller running rounds must store and return it. */
  readonly stateful?: boolean;
  combine(context: AggregationContext): Promise<CombineResult>;
}

import { checkStorage } from '../models/checks';
import type { TensorInfo } from '../onnx/manifest';
import type { ModelSource } from '../onnx/model-source';
import type { ModelSummary } from '../onnx/summary';
import { scanSource } from '../models/scan';
import { writeWithValues } from '../models/write';
import { floatDType } from '../onnx/schema';
import { findNonFinite, narrowInPlace } from '../onnx/float/encoding';
import { AggregationError, isAggregationError } from './errors';
import { parseParams } from './strategies/params';
import type { StrategyParams } from './strategies/params';
import { requireStrategy } from './strategies/registry';
import type { AggregatedTensors, ClientUpdate, StrategyState } from './strategies/strategy';
import { orderUpdates } from './update-order';

/** One aggregation: the method and its raw parameters, the round's global model and the clients' updates. */
export interface AggregateRequest {
  /** Any case: `FedAvg`, `fedavg`. */
  readonly method: string;
  /** Numbers or numeric strings; a parameter the method does not take is refused. */
  readonly params?: Readonly<Record<string, unknown>>;
  readonly global: ModelSource;
  /**
   * The global model's summary as its upload check returned it (`checkModel`), if kept: saves one pass over the
   * global model. The template is still checked against it as it is written.
   */
  readonly globalSummary?: ModelSummary;
  /** In any order: the engine sorts them by client id. */
  readonly updates: readonly ClientUpdate[];
  /** A stateful strategy's state from the previous round (`AggregateResult.state`); absent in its first round. */
  readonly state?: StrategyState;
  /** Coordinates per update held at a time by the robust rules; the default suits any model, tests go smaller. */
  readonly chunkSize?: number;
}

/** The aggregated model (to be streamed once, e.g. into the blob store) and how it was computed. */
export interface AggregateResult {
  /** The canonical method name. */
  readonly method: string;
  readonly params: StrategyParams;
  /** The client ids in the order they were folded. */
  readonly clientOrder: readonly string[];
  readonly totalSamples: number;
  /** Summary of the global model, which the result shares (same graph digest and manifest). */
  readonly summary: ModelSummary;
  /** The new model: the global model's bytes with new float initializer values. */
  readonly model: AsyncIterable<Uint8Array>;
  /** A stateful strategy's state for the next round. */
  readonly state?: StrategyState;
}

/**
 * Aggregates a round: validates method, parameters and updates, checks the global model, lets the strategy combine
 * the updates (each checked against the global model as it streams) and returns the result as a stream that reuses
 * every non-weight byte of the global model. Refusals are thrown as `AggregationError` with a stable code.
 */
export async function aggregate(request: AggregateRequest): Promise<AggregateResult> {
  const strategy = requireStrategy(request.method);
  const params = parseParams(strategy.method, strategy.params, request.params ?? {});
  const updates = orderUpdates(request.updates);
  const summary = request.globalSummary ?? (await summarizeGlobal(request.global));
  const { tensors, state } = await strategy.combine({
    global: request.global,
    globalSummary: summary,
    updates,
    params,
    ...(request.state ? { state: request.state } : {}),
    ...(request.chunkSize === undefined ? {} : { chunkSize: request.chunkSize }),
  });
  const floats = summary.manifest.filter((info) => info.isFloat);
  // Checked before any byte is written, so the output stream itself cannot fail on bad values half way.
  floats.forEach((info) => checkResult(tensors, info));
  return {
    method: strategy.method,
    params,
    clientOrder: updates.map((update) => update.clientId),
    totalSamples: updates.reduce((sum, update) => sum + update.sampleSize, 0),
    summary,
    model: writeWithValues(request.global, summary, new Set(floats.map((info) => info.name)), (info) =>
      takeEncoded(tensors, info),
    ),
    ...(state ? { state } : {}),
  };
}

/**
 * Summarizes the global model and refuses external data. Its values are not decoded (read by position, not even
 * read): FedAvg's result does not depend on them and the upload check already saw them.
 */
async function summarizeGlobal(global: ModelSource): Promise<ModelSummary> {
  try {
    return await scanSource(global, { onTensor: checkStorage });
  } catch (error) {
    throw isAggregationError(error) ? new AggregationError(error.code, `global model: ${error.message}`, error) : error;
  }
}

/** Refuses a missing, misshapen or non-finite result tensor (NaN or Inf in an update propagates to the mean). */
function checkResult(tensors: AggregatedTensors, info: TensorInfo): void {
  const values = tensors.get(info.name);
  if (values === undefined || values.length !== info.elementCount) {
    const message = `the strategy returned no values of the right size for "${info.name}"`;
    throw new AggregationError('model_values_invalid', message, { tensor: info.name });
  }
  const bad = findNonFinite(values);
  if (bad >= 0) {
    const message = `the aggregate of "${info.name}" is ${String(values[bad])} at element ${bad}: an update holds NaN or Inf`;
    throw new AggregationError('model_non_finite', message, { tensor: info.name });
  }
}

/** Encodes one result tensor in the global model's dtype, in place, and lets go of it: memory falls as it writes. */
function takeEncoded(tensors: AggregatedTensors, info: TensorInfo): Uint8Array {
  const values = tensors.get(info.name) ?? new Float64Array(0);
  tensors.delete(info.name);
  return narrowInPlace(values, floatDType(info.dataType) ?? 'float32');
}

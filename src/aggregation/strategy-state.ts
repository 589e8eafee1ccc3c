import { AggregationError } from './errors';
import { readSafetensors64, writeSafetensors } from './safetensors';
import type { StrategyState } from './strategies/strategy';

const FORMAT = 'roundhouse-strategy-state-v1';

/**
 * A stateful strategy's state as bytes for the blob store: safetensors of F64 slots (`m/fc.weight`, flat) with the
 * step count and a format tag in the metadata. Float64, so a round restored from it computes what an uninterrupted
 * run would.
 */
export function encodeStrategyState(state: StrategyState): Uint8Array {
  const tensors = new Map([...state.tensors].map(([name, values]) => [name, { shape: [values.length], values }]));
  return writeSafetensors(tensors, { format: FORMAT, step: String(state.step) });
}

/** Reads what `encodeStrategyState` wrote; anything else is `strategy_state_invalid`. */
export function decodeStrategyState(bytes: Uint8Array): StrategyState {
  const { tensors, metadata } = readSafetensors64(bytes);
  const step = Number(metadata.step);
  if (metadata.format !== FORMAT || !Number.isSafeInteger(step) || step < 0) {
    throw new AggregationError('strategy_state_invalid', `not a ${FORMAT} file (format ${String(metadata.format)})`);
  }
  return { step, tensors: new Map([...tensors].map(([name, tensor]) => [name, tensor.values])) };
}

import { AggregationError, isAggregationError } from '../errors';
import { FloatScratch } from '../../onnx/float/scratch';
import { scanModel } from '../../models/scan';
import { openSource } from '../../onnx/model-source';
import { readFloatValues } from '../../onnx/float/tensor-values';
import { foldWeightedMean } from '../weighted-mean';
import { numberParam } from './params';
import type { StrategyParams } from './params';
import type { AggregationContext, CombineResult } from './strategy';

/**
 * One tensor's server step: `mean` is x̄ (the FedAvg of the replies), `current` is x_t; `slot(name)` gives the
 * tensor's persistent state slot of that name (zeros the first time). Writes x_{t+1} into `mean`.
 */
type TensorStep = (
  mean: Float64Array,
  current: Float64Array,
  slot: (name: string) => Float64Array,
  params: StrategyParams,
  step: number,
) => void;

/**
 * A strategy that moves the global model by a server optimizer step on top of FedAvg (FedAvgM, the FedOpt family).
 * It needs x_t's values and keeps model-sized state (momentum, moments) across rounds in `StrategyState`: slots
 * named `<slot>/<tensor>` and the count of steps taken.
 */
export async function combineWithServerStep(
  context: AggregationContext,
  tensorStep: TensorStep,
): Promise<CombineResult> {
  const means = await foldWeightedMean(context.globalSummary, context.updates);
  const previous = context.state;
  const step = (previous?.step ?? 0) + 1;
  const slots = new Map<string, Float64Array>();
  await forEachGlobalTensor(context, (name, current) => {
    const mean = means.get(name);
    if (mean === undefined) {
      return;
    }
    const slot = (slotName: string): Float64Array => {
      const key = `${slotName}/${name}`;
      const kept = previous?.tensors.get(key);
      const values = kept && kept.length === mean.length ? Float64Array.from(kept) : new Float64Array(mean.length);
      slots.set(key, values);
      return values;
    };
    tensorStep(mean, current, slot, context.params, step);
  });
  return { tensors: means, state: { step, tensors: slots } };
}

/** Decodes the global model's float tensors one at a time (x_t), in float64. */
async function forEachGlobalTensor(
  context: AggregationContext,
  visit: (name: string, values: Float64Array) => void,
): Promise<void> {
  const scratch = new FloatScratch();
  try {
    await scanModel(openSource(context.global), {
      expected: context.globalSummary,
      onTensor: (record, info) => {
        if (info.isFloat) {
          visit(info.name, Float64Array.from(readFloatValues(record, scratch)));
        }
      },
    });
  } catch (error) {
    throw isAggregationError(error) ? new AggregationError(error.code, `global model: ${error.message}`, error) : error;
  }
}

/** FedAvgM (Hsu et al.): g = x_t − x̄; with momentum μ > 0, v = g in the first step, then v = μ·v + g; x = x_t − η_s·v. */
export const fedAvgMStep: TensorStep = (mean, current, slot, params, step) => {
  const lr = numberParam(params, 'server_learning_rate', 1);
  const mu = numberParam(params, 'server_momentum', 0);
  const velocity = mu > 0 ? slot('momentum') : undefined;
  for (let i = 0; i < mean.length; i++) {
    const x = current[i] ?? 0;
    let g = x - (mean[i] ?? 0);
    if (velocity !== undefined) {
      g = step === 1 ? g : mu * (velocity[i] ?? 0) + g;
      velocity[i] = g;
    }
    mean[i] = x - lr * g;
  }
};

/** Which second-moment rule a FedOpt variant uses. */
export type FedOptVariant = 'adagrad' | 'adam' | 'yogi';

/**
 * The FedOpt family (Reddi et al.) as Flower computes it: Δ = x̄ − x_t, m = β1·m + (1−β1)·Δ, v by the variant's
 * rule, x = x_t + η·m/(√v + τ); FedAdam scales η by √(1−β2^(t+1))/(1−β1^(t+1)) with t counted from 1 (Flower's
 * quirk, kept for parity). FedAdagrad has β1 = 0.
 */
export function fedOptStep(variant: FedOptVariant): TensorStep {
  return (mean, current, slot, params, step) => {
    const eta = numberParam(params, 'eta', 0.1);
    const tau = numberParam(params, 'tau', 1e-3);
    const beta1 = variant === 'adagrad' ? 0 : numberParam(params, 'beta_1', 0.9);
    const beta2 = numberParam(params, 'beta_2', 0.99);
    const rate = variant === 'adam' ? (eta * Math.sqrt(1 - beta2 ** (step + 1))) / (1 - beta1 ** (step + 1)) : eta;
    const m = slot('m');
    const v = slot('v');
    for (let i = 0; i < mean.length; i++) {
      const x = current[i] ?? 0;
      const delta = (mean[i] ?? 0) - x;
      const mi = beta1 * (m[i] ?? 0) + (1 - beta1) * delta;
      const squared = delta * delta;
      const previous = v[i] ?? 0;
      const vi =
        variant === 'adagrad'
          ? previous + squared
          : variant === 'adam'
            ? beta2 * previous + (1 - beta2) * squared
            : previous - (1 - beta2) * squared * Math.sign(previous - squared);
      m[i] = mi;
      v[i] = vi;
      mean[i] = x + (rate * mi) / (Math.sqrt(vi) + tau);
    }
  };
}

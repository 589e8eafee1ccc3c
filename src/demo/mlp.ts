import { AggregationError } from '../aggregation/errors';
import type { TensorInfo } from '../onnx/manifest';
import { formatTensorInfo } from '../onnx/manifest';
import { bytesSource, collectBytes } from '../onnx/model-source';
import { readFloatValues } from '../onnx/float/tensor-values';
import type { TensorRecord } from '../onnx/tensor-record';
import { writeModel } from '../onnx/writer';
import { scanModel } from '../models/scan';

/** Pixels per digit (28 × 28): the width of the MLP's input. */
export const INPUTS = 784;
/** Units of the hidden layer. */
export const HIDDEN = 128;
/** Digit classes: the width of the logits. */
export const CLASSES = 10;

/**
 * The fixture MLP's four tensors (Flatten → Linear 784→128 → ReLU → Dropout → Linear 128→10), row-major as PyTorch
 * and ONNX store them: `w1[j * 784 + i]` weighs input pixel i into hidden unit j.
 *
 * Float64Array, not Float32Array: JavaScript computes in float64 anyway (a float32 array costs a rounding on every
 * store, and buys no speed on scalar loops), the finite-difference check of the gradients needs float64 to resolve
 * differences of 1e-6, and 400 KB more of weights is nothing. Values are rounded to the template's float32 only when
 * an update is written, as PyTorch's own export rounds its float32 parameters.
 */
export interface MlpWeights {
  /** ONNX `1.weight`, [128, 784]. */
  readonly w1: Float64Array;
  /** ONNX `1.bias`, [128]. */
  readonly b1: Float64Array;
  /** ONNX `4.weight`, [10, 128]. */
  readonly w2: Float64Array;
  /** ONNX `4.bias`, [10]. */
  readonly b2: Float64Array;
}

/** One of the four tensors, by its field. */
export type MlpTensor = keyof MlpWeights;

/** Each tensor's initializer name (the PyTorch `state_dict` key) and shape in the fixture model. */
export const MLP_TENSORS: readonly { readonly key: MlpTensor; readonly name: string; readonly shape: number[] }[] = [
  { key: 'w1', name: '1.weight', shape: [HIDDEN, INPUTS] },
  { key: 'b1', name: '1.bias', shape: [HIDDEN] },
  { key: 'w2', name: '4.weight', shape: [CLASSES, HIDDEN] },
  { key: 'b2', name: '4.bias', shape: [CLASSES] },
];

/** All-zero tensors: gradient and momentum buffers. */
export function zeroWeights(): MlpWeights {
  return {
    w1: new Float64Array(HIDDEN * INPUTS),
    b1: new Float64Array(HIDDEN),
    w2: new Float64Array(CLASSES * HIDDEN),
    b2: new Float64Array(CLASSES),
  };
}

/** A deep copy, so training never changes the caller's weights. */
export function copyWeights(weights: MlpWeights): MlpWeights {
  return { w1: weights.w1.slice(), b1: weights.b1.slice(), w2: weights.w2.slice(), b2: weights.b2.slice() };
}

/**
 * The MLP's weights from an ONNX model (the global model a client starts from), read by the engine's own streaming
 * reader so the demo trains on exactly what the server would aggregate. Refuses a model whose float initializers are
 * not exactly the fixture MLP's four, with their shapes. Throws `AggregationError`.
 */
export async function readMlpWeights(onnxBytes: Uint8Array): Promise<MlpWeights> {
  const found = new Map<string, Float64Array>();
  const onTensor = (record: TensorRecord, info: TensorInfo): void => {
    if (!info.isFloat) {
      return;
    }
    const spec = MLP_TENSORS.find((entry) => entry.name === info.name);
    if (spec === undefined || spec.shape.join(',') !== info.shape.join(',')) {
      const expected = MLP_TENSORS.map((entry) => `"${entry.name}" [${entry.shape.join(', ')}]`).join(', ');
      const message = `the model has ${formatTensorInfo(info)}; the demo MLP has only ${expected}`;
      throw new AggregationError('model_manifest_mismatch', message, { tensor: info.name });
    }
    // The record's payload is only valid during this call: the values are copied out (and widened) here.
    found.set(info.name, Float64Array.from(readFloatValues(record)));
  };
  await scanModel(bytesSource(onnxBytes)(), { onTensor });
  const tensor = (name: string): Float64Array => {
    const values = found.get(name);
    if (values === undefined) {
      throw new AggregationError('model_manifest_mismatch', `the model has no initializer "${name}"`, { tensor: name });
    }
    return values;
  };
  return { w1: tensor('1.weight'), b1: tensor('1.bias'), w2: tensor('4.weight'), b2: tensor('4.bias') };
}

/**
 * The template (the round's global model) with the trained weights: every byte but the four tensors' values is the
 * template's, so the update has the global model's graph and manifest and passes the server's update check. Values
 * are rounded to the template's float type (float32 for the fixture).
 */
export async function writeMlpUpdate(templateBytes: Uint8Array, weights: MlpWeights): Promise<Uint8Array> {
  const values = new Map<string, ArrayLike<number>>(MLP_TENSORS.map(({ key, name }) => [name, weights[key]]));
  return await collectBytes(writeModel(bytesSource(templateBytes), values));
}

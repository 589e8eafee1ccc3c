import { isAggregationError } from '../aggregation/errors';
import { encodeFloatValues, findNonFinite } from '../onnx/float/encoding';
import type { TensorInfo } from '../onnx/manifest';
import { formatTensorInfo } from '../onnx/manifest';
import { scanOnnxModel as scanModel } from '../onnx/scan';
import { bytesSource, collectBytes } from '../onnx/model-source';
import type { ModelSummary } from '../onnx/summary';
import { spliceModel } from '../onnx/writer';
import { floatDType } from '../onnx/schema';
import type { Float32Tensor } from '../aggregation/safetensors';
import { readSafetensors } from '../aggregation/safetensors';
import { invalidInput } from '../errors';
import type { NormalSource } from '../seeded-random';
import { mapValues } from './tensor';

/**
 * The floor of the SWAG variance, max(second − first², floor). The reference text asks for a small ε; we use 0 and
 * let the floor only clamp the negatives that float32 rounding leaves when a weight barely moves. A positive ε would
 * jitter every weight that never moved by √ε, so a model with zero variance would no longer sample its own mean.
 */
export const SWAG_VARIANCE_FLOOR = 0;

/** One SWAG sampling: the model whose graph the samples keep, its moments and how many samples to draw. */
export interface SwagSampling {
  /** The SWAG model (its graph and non-float initializers are kept; its float values are replaced). */
  readonly model: Uint8Array;
  /** safetensors, float32, keyed by initializer name (as `aggregateSwag` stores them). */
  readonly firstMoment: Uint8Array;
  readonly secondMoment: Uint8Array;
  readonly samples: number;
  /** Independent standard normal draws, e.g. `seededNormal(seed)`: the same source state gives the same models. */
  readonly normal: NormalSource;
}

/**
 * Draws `samples` models from N(first, diag(max(second − first², SWAG_VARIANCE_FLOOR))), one at a time, each float
 * initializer θ = first + √variance · z with z independent per coordinate and per sample. Each sample is the model's
 * own bytes with new raw_data, so its graph is byte-identical. first² is rounded to float32, the precision the
 * moments are stored in, so second = first² read from the file means exactly zero variance.
 * @throws AppError invalid_input for unreadable moments, moments that miss or misshape a float initializer, or
 *   non-finite moment values.
 */
export async function* sampleSwagModels(sampling: SwagSampling): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(sampling.samples) || sampling.samples < 1) {
    throw invalidInput(`the number of SWAG samples must be a positive integer, got ${sampling.samples}`);
  }
  const summary = await scanModel(bytesSource(sampling.model)());
  const floats = summary.manifest.filter((info) => info.isFloat);
  const first = readMoment(sampling.firstMoment, 'first');
  const second = readMoment(sampling.secondMoment, 'second');
  const gaussians = new Map(floats.map((info) => [info.name, gaussianOf(info, first, second)]));
  for (let sample = 0; sample < sampling.samples; sample++) {
    yield await collectBytes(drawModel(sampling, summary, gaussians));
  }
}

interface Gaussian {
  readonly mean: Float32Array;
  readonly std: Float64Array;
}

function drawModel(
  sampling: SwagSampling,
  summary: ModelSummary,
  gaussians: ReadonlyMap<string, Gaussian>,
): AsyncIterable<Uint8Array> {
  return spliceModel(bytesSource(sampling.model)(), summary, new Set(gaussians.keys()), (info) => {
    const { mean, std } = gaussians.get(info.name) ?? { mean: new Float32Array(0), std: new Float64Array(0) };
    const values = mapValues(mean, (mu, i) => mu + (std[i] ?? 0) * sampling.normal());
    return encodeFloatValues(values, floatDType(info.dataType) ?? 'float32');
  });
}

/** The mean and std of one initializer, checked against its manifest entry. */
function gaussianOf(info: TensorInfo, first: Moment, second: Moment): Gaussian {
  const mean = momentOf(info, first);
  const squares = momentOf(info, second);
  const std = mapValues(mean, (mu, i) =>
    Math.sqrt(Math.max((squares[i] ?? 0) - Math.fround(mu * mu), SWAG_VARIANCE_FLOOR)),
  );
  return { mean, std };
}

interface Moment {
  readonly which: 'first' | 'second';
  readonly tensors: ReadonlyMap<string, Float32Tensor>;
}

function readMoment(bytes: Uint8Array, which: Moment['which']): Moment {
  try {
    return { which, tensors: readSafetensors(bytes).tensors };
  } catch (error) {
    throw isAggregationError(error) ? invalidInput(`the SWAG ${which} moment: ${error.message}`) : error;
  }
}

function momentOf(info: TensorInfo, moment: Moment): Float32Array {
  const tensor = moment.tensors.get(info.name);
  const what = `the SWAG ${moment.which} moment`;
  if (tensor === undefined) {
    throw invalidInput(`${what} does not cover the model: it has no tensor for ${formatTensorInfo(info)}`);
  }
  if (tensor.shape.length !== info.shape.length || tensor.shape.some((dim, i) => dim !== info.shape[i])) {
    throw invalidInput(`${what} has shape [${tensor.shape.join(', ')}] for ${formatTensorInfo(info)}`);
  }
  const bad = findNonFinite(tensor.values);
  if (bad >= 0) {
    throw invalidInput(`${what} holds ${String(tensor.values[bad])} at element ${bad} of "${info.name}"`);
  }
  return tensor.values;
}

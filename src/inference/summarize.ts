import { argmaxLastDim, meanOverSamples } from './output-ops';
import type { UncertaintyMethod } from './plan';
import type { InferenceSamples } from './task';
import type { FloatTensor } from './tensor';
import { interpretUncertainty } from './uncertainty';

/** Names the layout of a binary inference answer, in its safetensors metadata. */
export const INFERENCE_RESPONSE_FORMAT = 'roundhouse.inference.v1';

/** What one inference answers. */
export interface InferenceOutcome {
  readonly outputName: string;
  /** NONE on a 2-D output: the class index per row (as the reference); otherwise the outputs. */
  readonly inference: FloatTensor;
  /** The raw output (NONE), or its mean over the samples. */
  readonly outputs: FloatTensor;
  /** The reference's figures by name; empty for NONE. */
  readonly uncertainty: Readonly<Record<string, FloatTensor>>;
}

/** Turns the stacked samples of a task into the answer the reference gives for `method`. */
export function summarize(method: UncertaintyMethod, result: InferenceSamples): InferenceOutcome {
  const outputs = meanOverSamples(result.samples);
  if (method === 'NONE') {
    const inference = outputs.dims.length === 2 ? argmaxLastDim(outputs) : outputs;
    return { outputName: result.outputName, inference, outputs, uncertainty: {} };
  }
  const figures = interpretUncertainty(result.samples);
  const uncertainty = Object.fromEntries(
    Object.entries(figures).filter((entry): entry is [string, FloatTensor] => entry[1] !== undefined),
  );
  return { outputName: result.outputName, inference: outputs, outputs, uncertainty };
}

import fs from 'node:fs/promises';
import type { FlModel } from '../../db/models/model';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { invalidInput, onnxRequired } from '../../errors';
import type { ModelInputSource } from '../../inference/input/model-input';
import {
  DEFAULT_SAMPLES,
  MAX_SAMPLES,
  planInference,
  UNCERTAINTY_METHODS,
  type UncertaintyMethod,
  type UncertaintySettings,
} from '../../inference/plan';
import type { InferencePool } from '../../inference/pool';
import { type InferenceOutcome, summarize } from '../../inference/summarize';
import { JsonText } from '../routing/json-text';
import type { UploadedFiles } from '../routing/uploaded-files';
import type { InferenceModels } from './inference-model';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The request's fields, as JSON or multipart gave them (checked here, with the reference's messages). */
export interface InferenceFields {
  readonly model_id?: unknown;
  readonly return_format?: unknown;
  readonly model_input?: unknown;
  readonly shape?: unknown;
  readonly uncertainty_method?: unknown;
  readonly options?: unknown;
}

/** What the route answers with. */
export interface InferenceAnswer extends InferenceOutcome {
  readonly format: 'json' | 'binary';
  readonly method: UncertaintyMethod;
}

/**
 * `POST /api/inference/` (docs/inference.md#uncertainty-methods): picks the uncertainty method (the training's, or the request's for a
 * model without one), checks the model can serve it, and runs the model in the inference pool, whose thread decodes
 * the input (never as a path, never a pickle) and checks it against the model's `input_shape`; the caller must be
 * allowed to read the model.
 * @param multipart whether the request was multipart (its default return format is binary, as the reference's).
 */
export async function runInference(
  deps: { inference: InferencePool; inferenceModels: InferenceModels },
  user: User,
  fields: InferenceFields,
  files: UploadedFiles,
  multipart: boolean,
): Promise<InferenceAnswer> {
  if (fields.model_id === undefined || fields.model_id === '') {
    throw invalidInput("No 'model_id' provided in request.");
  }
  const modelId = typeof fields.model_id === 'string' ? fields.model_id : JSON.stringify(fields.model_id);
  if (!UUID.test(modelId)) {
    throw invalidInput(`Model ${modelId} not found.`);
  }
  const format = returnFormat(fields.return_format, multipart);
  const { model, global, training, onnx, target } = await deps.inferenceModels.readable(user, modelId);
  if (!onnx) {
    // onnxruntime runs ONNX only: a PyTorch model (or a MEAN model with one among its members) gets the export recipe.
    throw onnxRequired('Inference');
  }
  const settings = uncertaintySettings(global ?? model, training, fields);
  if ('error' in target) {
    throw invalidInput(target.error);
  }
  // The method must fit the model before the input is even read.
  const plan = planInference(target, settings);
  const input = await inputSource(fields, files);
  const samples = await deps.inference.run({ ...plan, input, inputShape: global?.inputShape ?? null });
  return { format, method: settings.method, ...summarize(settings.method, samples) };
}

function returnFormat(value: unknown, multipart: boolean): 'json' | 'binary' {
  if (value === undefined || value === '') {
    return multipart ? 'binary' : 'json';
  }
  if (value === 'json' || value === 'binary') {
    return value;
  }
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  throw invalidInput(`Unknown return format '${shown}'. Supported are binary and json.`);
}

/** The model_input file part, or the field. @throws 400 (the reference's text) when neither is there. */
async function inputSource(fields: InferenceFields, files: UploadedFiles): Promise<ModelInputSource> {
  const file = files.get('model_input')?.[0];
  if (file) {
    return {
      kind: 'file',
      bytes: await fs.readFile(file.path),
      ...(file.filename ? { filename: file.filename } : {}),
    };
  }
  const value = fields.model_input;
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw invalidInput("No uploaded file 'model_input' found.");
  }
  if (value instanceof JsonText) {
    return { kind: 'json-text', bytes: value.bytes, shape: fields.shape };
  }
  return typeof value === 'string'
    ? { kind: 'form', value, shape: fields.shape }
    : { kind: 'json', value, shape: fields.shape };
}

/**
 * The training's uncertainty method and `options.uncertainty` (N, softmax). The request may name a method (and
 * its own `options.uncertainty`) only for a model whose training has none, or the same one.
 */
function uncertaintySettings(
  global: FlModel,
  training: Omit<Training, 'participants'> | undefined,
  fields: InferenceFields,
): UncertaintySettings {
  const trained =
    training && training.uncertaintyMethod !== 'NONE' ? (training.uncertaintyMethod as UncertaintyMethod) : undefined;
  const asked = fields.uncertainty_method;
  if (asked !== undefined && !UNCERTAINTY_METHODS.includes(asked as UncertaintyMethod)) {
    throw invalidInput(
      `uncertainty_method must be one of ${UNCERTAINTY_METHODS.join(', ')}, not ${JSON.stringify(asked)}.`,
    );
  }
  if (trained && asked !== undefined && asked !== trained) {
    throw invalidInput(
      `Model ${global.id} was trained with uncertainty method ${trained}; a request names one only for a model without.`,
    );
  }
  if (trained && fields.options !== undefined) {
    throw invalidInput(
      `Model ${global.id} was trained with uncertainty method ${trained}: its options.uncertainty come from the training, not the request.`,
    );
  }
  const method = trained ?? (asked as UncertaintyMethod | undefined) ?? (global.type === 'MEAN' ? 'ENSEMBLE' : 'NONE');
  const options = uncertaintyOptions(trained ? training?.options.uncertainty : optionsOf(fields.options));
  return { method, ...options };
}

function optionsOf(value: unknown): unknown {
  if (value === undefined) {
    return undefined;
  }
  const parsed: unknown = typeof value === 'string' ? parseJson(value, 'options') : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidInput('options must be an object such as {"uncertainty": {"N": 10, "softmax": false}}.');
  }
  const { uncertainty, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) {
    throw invalidInput(`options.${unknown}: Unknown field.`);
  }
  return uncertainty;
}

function uncertaintyOptions(value: unknown): { samples: number; softmax: boolean } {
  if (value === undefined || value === null) {
    return { samples: DEFAULT_SAMPLES, softmax: false };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidInput('options.uncertainty must be an object with N and softmax.');
  }
  const { N, softmax, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) {
    throw invalidInput(`options.uncertainty.${unknown}: Unknown field.`);
  }
  if (N !== undefined && !(Number.isInteger(N) && Number(N) >= 1 && Number(N) <= MAX_SAMPLES)) {
    throw invalidInput(`options.uncertainty.N must be an integer from 1 to ${MAX_SAMPLES}, not ${JSON.stringify(N)}.`);
  }
  if (softmax !== undefined && typeof softmax !== 'boolean') {
    throw invalidInput('options.uncertainty.softmax must be true or false.');
  }
  return { samples: (N as number | undefined) ?? DEFAULT_SAMPLES, softmax: softmax === true };
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidInput(`${field} is not valid JSON.`);
  }
}

import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { InferenceErrorCode } from '../error-reasons';
import { invalidInput, isAppError } from '../errors';
import { checkInputShape } from './input/input-shape';
import { decodeModelInput } from './input/model-input';
import { SessionCache } from './session-cache';
import { softmax, stackSamples } from './output-ops';
import type { FloatTensor } from './tensor';
import { type FromWorker, type InferenceSamples, type InferenceTask, type SessionSpec, type ToWorker } from './task';
import { buildVariant, InferenceModelError, variantDigests } from './variants';

/** What the pool hands every worker at its start. */
export interface PoolWorkerData {
  readonly intraOpNumThreads: number;
  readonly cacheBytes: number;
}

const settings = workerData as PoolWorkerData;
const port = parentPort;
const cache = new SessionCache<ort.InferenceSession>(settings.cacheBytes);
const waiting = new Map<number, (blobs: Map<string, Uint8Array>) => void>();
let queue: Promise<void> = Promise.resolve();

port?.on('message', (message: ToWorker) => {
  if (message.type === 'blobs') {
    waiting.get(message.id)?.(new Map(message.blobs));
    waiting.delete(message.id);
    return;
  }
  // One task at a time: sessions run with their own intra-op threads, and a task's sessions stay cached while it runs.
  queue = queue.then(() => answer(message.id, message.task));
});

async function answer(id: number, task: InferenceTask): Promise<void> {
  try {
    const result = await runTask(id, task);
    post({ type: 'done', id, result }, [result.samples.data.buffer as ArrayBuffer]);
  } catch (err) {
    if (isAppError(err) && err.status === 400) {
      post({ type: 'failed', id, code: err.code, message: err.message, details: err.details });
      return;
    }
    const code = err instanceof InferenceModelError ? err.code : null;
    post({ type: 'failed', id, code, message: err instanceof Error ? err.message : String(err) });
  }
}

async function runTask(id: number, task: InferenceTask): Promise<InferenceSamples> {
  const specs = [...(task.preprocess ? [task.preprocess] : []), ...task.sessions];
  let input = decodeInput(task);
  await ensureSessions(id, specs);
  if (task.preprocess) {
    input = (await runOnce(cache.get(task.preprocess.key), input)).output;
  }
  const outputs: FloatTensor[] = [];
  let outputName = '';
  for (const spec of task.sessions) {
    const session = cache.get(spec.key);
    for (let pass = 0; pass < task.passes; pass++) {
      const result = await runOnce(session, input);
      outputName = result.name;
      outputs.push(task.softmax ? softmax(result.output) : result.output);
    }
  }
  return { outputName, samples: stackSamples(outputs) };
}

/** The task's input as a tensor; without a preprocessing graph it must be a tensor of the model's input_shape. */
function decodeInput(task: InferenceTask): FloatTensor {
  const decoded = decodeModelInput(task.input);
  if (task.preprocess) {
    return decoded.tensor;
  }
  if (decoded.kind === 'image') {
    throw invalidInput('The model has no preprocessing graph to turn an image into its input; send a tensor instead.', {
      reason: 'image_without_preprocessing',
    });
  }
  checkInputShape(decoded.tensor, task.inputShape);
  return decoded.tensor;
}

/** Creates the sessions the task needs and the cache lacks, asking the API thread for the blobs they start from. */
async function ensureSessions(id: number, specs: readonly SessionSpec[]): Promise<void> {
  cache.pin(specs.map((spec) => spec.key));
  const missing = specs.filter((spec) => !cache.has(spec.key));
  if (missing.length === 0) {
    return;
  }
  const digests = [...new Set(missing.flatMap((spec) => [spec.digest, ...variantDigests(spec.variant)]))];
  const blobs = await new Promise<Map<string, Uint8Array>>((resolve) => {
    waiting.set(id, resolve);
    post({ type: 'need', id, digests });
  });
  for (const spec of missing) {
    const bytes = await buildVariant(spec, blobs);
    const session = await createSession(bytes, spec);
    cache.set(spec.key, session, bytes.byteLength);
  }
}

async function createSession(bytes: Uint8Array, spec: SessionSpec): Promise<ort.InferenceSession> {
  const mcDropout = spec.variant.kind === 'dropout' && spec.variant.training;
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: settings.intraOpNumThreads,
      interOpNumThreads: 1,
      // ORT drops Dropout at every other level, even in training mode: MC dropout needs the graph as it is.
      graphOptimizationLevel: mcDropout ? 'disabled' : 'all',
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new InferenceModelError(
      InferenceErrorCode.INVALID_MODEL,
      `The model cannot be loaded for inference: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

async function runOnce(
  session: ort.InferenceSession,
  input: FloatTensor,
): Promise<{ name: string; output: FloatTensor }> {
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  if (inputName === undefined || outputName === undefined) {
    throw new InferenceModelError(InferenceErrorCode.INVALID_MODEL, 'The model has no input or no output.');
  }
  if (session.inputNames.length > 1) {
    throw new InferenceModelError(
      InferenceErrorCode.INVALID_MODEL,
      `The model takes ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); inference feeds one.`,
    );
  }
  const feeds = { [inputName]: new ort.Tensor('float32', input.data, [...input.dims]) };
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(feeds);
  } catch (err) {
    // The models were checked when uploaded: what fails here is the input (rank, dimensions, a size a Reshape refuses).
    throw new InferenceModelError(
      InferenceErrorCode.INVALID_INPUT,
      `The model refused the input: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const output = results[outputName];
  if (!output || output.type !== 'float32') {
    throw new InferenceModelError(
      InferenceErrorCode.INVALID_MODEL,
      `The model's output "${outputName}" is ${output?.type ?? 'missing'}, not float32.`,
    );
  }
  // The tensor's data may view a larger native buffer: copy it out.
  return { name: outputName, output: { dims: [...output.dims], data: (output.data as Float32Array).slice() } };
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

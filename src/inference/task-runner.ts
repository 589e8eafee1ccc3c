import * as ort from 'onnxruntime-node';
import { InferenceErrorCode } from '../error-reasons';
import { invalidInput } from '../errors';
import { checkInputShape } from './input/input-shape';
import { decodeModelInput } from './input/model-input';
import { SessionCache } from './session-cache';
import { softmax, stackSamples } from './output-ops';
import type { FloatTensor } from './tensor';
import type { InferenceSamples, InferenceTask, SessionSpec } from './task';
import { buildVariant, InferenceModelError, variantDigests } from './variants';

/** Reads the blobs (models, moment files) a task's missing sessions start from, by digest. */
export type FetchBlobs = (digests: readonly string[]) => Promise<Map<string, Uint8Array>>;

/** A task's result, with how long its decoding and runs took (session creation excluded), in milliseconds. */
export interface TaskOutcome {
  readonly result: InferenceSamples;
  readonly runMs: number;
  /** Bytes of the models its sessions were created from. */
  readonly modelBytes: number;
}

/** How a runner's sessions run. */
export interface TaskRunnerSettings {
  /** onnxruntime's intra-op threads per session. */
  readonly intraOpNumThreads: number;
  /** Intra-op threads of the sessions a wide task runs on (a task that has the pool to itself). */
  readonly wideIntraOpThreads?: number;
  /** Bytes of model whose sessions the runner keeps (wide ones included). */
  readonly cacheBytes: number;
}

/**
 * Runs inference tasks with a cache of sessions, one task at a time: a pool thread has one, and so has the API
 * thread for the tasks measured to take almost no time (src/inference/pool.ts). Session creation and
 * `session.run` are synchronous in onnxruntime-node: on the thread that calls them, they block it. A wide task
 * runs on sessions of its own with `wideIntraOpThreads` threads, which sleep rather than spin between runs, so that
 * they do not take cores from the other threads when the pool is busy again.
 */
export class TaskRunner {
  private readonly cache: SessionCache<ort.InferenceSession>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly settings: TaskRunnerSettings) {
    this.cache = new SessionCache(settings.cacheBytes);
  }

  /** Runs `task` after the tasks before it, creating the sessions it lacks from blobs `fetch` reads. */
  run(task: InferenceTask, fetch: FetchBlobs, wide = false): Promise<TaskOutcome> {
    const outcome = this.queue.then(() => this.runNow(task, fetch, wide));
    this.queue = outcome.catch(() => undefined);
    return outcome;
  }

  /** Releases every session. */
  async close(): Promise<void> {
    await this.queue;
    await this.cache.clear();
  }

  private async runNow(task: InferenceTask, fetch: FetchBlobs, wide: boolean): Promise<TaskOutcome> {
    const threads = wide ? (this.settings.wideIntraOpThreads ?? this.settings.intraOpNumThreads) : 0;
    const key = (spec: SessionSpec): string => (wide ? `${spec.key}|wide ${threads}` : spec.key);
    const specs = [...(task.preprocess ? [task.preprocess] : []), ...task.sessions];
    // The input first: a request's own mistake is told before any model is read.
    const decodeStarted = performance.now();
    let input = decodeInput(task);
    const decodeMs = performance.now() - decodeStarted;
    const modelBytes = await this.ensureSessions(specs, fetch, key, threads);
    const started = performance.now();
    if (task.preprocess) {
      input = (await runOnce(this.cache.get(key(task.preprocess)), input)).output;
    }
    const outputs: FloatTensor[] = [];
    let outputName = '';
    for (const spec of task.sessions) {
      const session = this.cache.get(key(spec));
      for (let pass = 0; pass < task.passes; pass++) {
        const result = await runOnce(session, input);
        outputName = result.name;
        outputs.push(task.softmax ? softmax(result.output) : result.output);
      }
    }
    const result = { outputName, samples: stackSamples(outputs) };
    return { result, runMs: decodeMs + performance.now() - started, modelBytes };
  }

  /**
   * Creates the sessions the task needs and the cache lacks (under `key`; with `wideThreads` intra-op threads, or 0
   * for the usual ones); answers the bytes of the models all its sessions were created from.
   */
  private async ensureSessions(
    specs: readonly SessionSpec[],
    fetch: FetchBlobs,
    key: (spec: SessionSpec) => string,
    wideThreads: number,
  ): Promise<number> {
    this.cache.pin(specs.map(key));
    const missing = specs.filter((spec) => !this.cache.has(key(spec)));
    if (missing.length > 0) {
      const blobs = await fetch([
        ...new Set(missing.flatMap((spec) => [spec.digest, ...variantDigests(spec.variant)])),
      ]);
      for (const spec of missing) {
        const bytes = await buildVariant(spec, blobs);
        const session = await createSession(
          bytes,
          spec,
          wideThreads || this.settings.intraOpNumThreads,
          wideThreads > 0,
        );
        this.cache.set(key(spec), session, bytes.byteLength);
      }
    }
    return specs.reduce((sum, spec) => sum + this.cache.bytesOf(key(spec)), 0);
  }
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

async function createSession(
  bytes: Uint8Array,
  spec: SessionSpec,
  intraOpNumThreads: number,
  sleeping: boolean,
): Promise<ort.InferenceSession> {
  const mcDropout = spec.variant.kind === 'dropout' && spec.variant.training;
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads,
      interOpNumThreads: 1,
      // Threads that spin after a run keep their cores busy for a while: a wide session's would take them from the
      // other pool threads' runs (measured: two busy threads of two each on 2 cores, 11,100 samples/s spinning,
      // 13,700 not; CNN at batch 64).
      ...(sleeping ? { extra: { session: { 'intra_op.allow_spinning': '0' } } } : {}),
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

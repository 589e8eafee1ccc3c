import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, invalidInput, isAppError, unavailable } from '../errors';
import { inferenceDuration, watchInferenceQueue } from '../metrics/metrics';
import { decodeModelInput, type ModelInputSource } from './input/model-input';
import type { PoolWorkerData } from './pool-worker';
import {
  DEFAULT_POOL_NICE,
  type FromWorker,
  INLINE_RUN_MS,
  type InferenceSamples,
  type InferenceTask,
  type ToWorker,
} from './task';
import { TaskRunner } from './task-runner';
import { InferenceModelError } from './variants';

/** How the pool runs. */
export interface InferencePoolSettings {
  /** Worker threads, each with its own sessions; a task runs on one of them. */
  readonly threads: number;
  /** onnxruntime's intra-op threads per session. */
  readonly intraOpNumThreads: number;
  /**
   * Intra-op threads for a task that has the pool to itself and was measured to run for at least `WIDE_MIN_MS`: a
   * lone request runs on every core, while under load each task runs with `intraOpNumThreads`. Not above
   * `intraOpNumThreads` (the default): off.
   */
  readonly wideIntraOpThreads?: number;
  /** Bytes of model whose sessions each thread keeps (least recently used out, released on eviction). */
  readonly cacheBytesPerThread: number;
  /**
   * Nice steps the threads run below the API thread (Linux; 0: none), so that a request or a health check never
   * waits for a core behind inference runs that fill them all (`DEFAULT_POOL_NICE`).
   */
  readonly nice?: number;
  /** Tasks waiting for a thread beyond which a new one is refused with 503. */
  readonly maxQueued: number;
  /** Reads a blob (a model, a moment file) by digest, for a thread that lacks a session. */
  readonly loadBlob: (digest: string) => Promise<Uint8Array>;
  /**
   * A task that a pool thread ran in less than this (decoding and runs; milliseconds) runs on the API thread from
   * then on, sparing the hop to a thread and back; 0 runs every task on the threads. Default `INLINE_RUN_MS`.
   */
  readonly inlineRunMs?: number;
  /** Below this run time, inline whenever it may (see `INLINE_ALWAYS_MS`, the default); for tests. */
  readonly inlineAlwaysMs?: number;
  /** The run time from which a lone task runs wide (`WIDE_MIN_MS`, the default); for tests. */
  readonly wideMinMs?: number;
}

/** Bytes of model whose sessions the API thread keeps. */
const INLINE_CACHE_BYTES = 64 * 1024 * 1024;
/** Models larger than this never run on the API thread: creating their session would block it too long. */
const INLINE_MAX_MODEL_BYTES = 16 * 1024 * 1024;
/** Tasks waiting for the API thread beyond which a new one goes to the threads, whatever it measured. */
const INLINE_MAX_WAITING = 2;
/**
 * Milliseconds under which a run costs less than the hop to a thread and back would: such a kind runs inline whenever
 * it may. The hop measured on 2 cores (MLP at batch 1, whose fastest run inline measures 0.06–0.10 ms): 0.17 ms of
 * latency, 0.26 ms of CPU a request under 16 connections. A slower kind (up to `inlineRunMs`) runs inline only when
 * nothing else runs or waits: a lone request is answered sooner, while under load the threads take the runs off the
 * API thread, which then limits throughput.
 */
const INLINE_ALWAYS_MS = 0.2;
/**
 * Milliseconds a kind of task must have run (its fastest run, wide or not) to run wide on a pool thread when alone:
 * below, it runs on the API thread when alone (wide there too, as `inlineRunMs` allows), sparing the hop.
 */
const WIDE_MIN_MS = 1;
/** Measured kinds of task remembered (least recently measured out). */
const MEASURED_KINDS = 4096;

interface Pending {
  readonly id: number;
  /** What its run time is remembered under (`kindOf`). */
  readonly kind: string;
  readonly task: InferenceTask;
  /** Whether it runs on the wide sessions (it had the pool to itself). */
  readonly wide: boolean;
  readonly resolve: (result: InferenceSamples) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
}

const RETRY_AFTER_SECONDS = 2;

/** A model's blob could not be read for a session (a server failure: 500). */
class ModelReadError extends Error {
  constructor(cause: unknown) {
    super(`Inference could not read a model: ${String(cause)}`);
  }
}

/**
 * The input ready to cross to a pool thread. A JSON nested list is decoded here, on the API thread: walking it once
 * costs less than the structured clone of its millions of small arrays would, and the float32 result moves for free.
 * (A file's bytes get a buffer of their own only when the task goes to a thread: `ownBuffer`.)
 * @throws 400 for a nested list that is not a tensor (the pool thread would say the same).
 */
function transferable(input: ModelInputSource): ModelInputSource {
  if (input.kind === 'json' && Array.isArray(input.value)) {
    return { kind: 'tensor', tensor: decodeModelInput(input).tensor };
  }
  return input;
}

/** A task whose file input has a buffer of its own (never a view into a shared one), so that it can be moved. */
function ownBuffer(task: InferenceTask): InferenceTask {
  return task.input.kind === 'file'
    ? { ...task, input: { ...task.input, bytes: new Uint8Array(task.input.bytes) } }
    : task;
}

/**
 * What a task's run time depends on: its sessions, passes and softmax, the kind of its input and its size within a
 * factor of two.
 */
function kindOf(task: InferenceTask): string {
  const input = task.input;
  const size =
    input.kind === 'file' || input.kind === 'json-text'
      ? input.bytes.byteLength
      : input.kind === 'tensor'
        ? input.tensor.data.byteLength
        : typeof input.value === 'string'
          ? input.value.length
          : 0;
  const sessions = task.sessions.map((spec) => spec.key).join(',');
  return `${task.preprocess?.key ?? ''}|${sessions}|${task.passes}|${task.softmax}|${input.kind}|${Math.ceil(Math.log2(size + 1))}`;
}

/**
 * Runs inference tasks on `worker_threads`, so creating sessions and `session.run` (synchronous in onnxruntime-node)
 * never block the API's event loop. Threads start on the first task. A task waits in a bounded FIFO queue for an idle
 * thread; each thread caches its own sessions and asks for blobs only when it lacks one. A thread that dies fails its
 * task and is replaced.
 *
 * Each task's run time is remembered by its kind (`kindOf`): a kind whose fastest run took less than `inlineRunMs`
 * with models of at most 16 MiB runs on the API thread from then on (its own small session cache), where the hop to
 * a thread and back would cost more than the run; at most two such tasks wait there, the rest go to the threads. A
 * kind slower than the hop itself (0.2 ms) runs inline only when nothing else runs or waits: under load, the API
 * thread is what limits throughput, and the threads run on the other cores.
 *
 * A task that arrives while nothing else runs or waits runs wide: its sessions (their own, on the API thread or on
 * a pool thread for a kind measured at a millisecond or more) use `wideIntraOpThreads` intra-op threads, so a lone
 * request has every core. Under load each task keeps to `intraOpNumThreads` (one on the API thread), and the threads
 * share the cores (measured on 2 cores, CNN at batch 64: one run on both cores 4.2 ms, on one 8.6 ms; two threads of
 * one each run the most samples a second; CNN at batch 1 on the API thread, 0.75 ms on one core, 0.6 on both).
 */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Run times measured on the threads and the API thread, by kind of task; least recently measured first. */
  private readonly measured = new Map<string, { runMs: number; modelBytes: number }>();
  private inline: TaskRunner | undefined;
  private inlineWaiting = 0;
  private readonly counts = { inline: 0, threads: 0, wide: 0 };

  /** Stops counting this pool's queue in the metrics. */
  private readonly unwatch: () => void;

  constructor(private readonly settings: InferencePoolSettings) {
    this.unwatch = watchInferenceQueue(() => this.queue.length);
  }

  /** Runs a task. @throws 503 when the queue is full, 400 for a model or input the model refuses. */
  run(task: InferenceTask): Promise<InferenceSamples> {
    if (this.closed) {
      return Promise.reject(shuttingDown());
    }
    this.start();
    if (this.queue.length >= this.settings.maxQueued) {
      inferenceDuration.observe({ outcome: 'at_capacity' }, 0);
      return Promise.reject(
        unavailable('Inference is at capacity right now; retry the same request.', RETRY_AFTER_SECONDS, {
          reason: 'inference_at_capacity',
        }),
      );
    }
    const stop = inferenceDuration.startTimer();
    // A JSON list becomes a tensor here, whichever thread runs it (kindOf then knows its size).
    const prepared = { ...task, input: transferable(task.input) };
    const kind = kindOf(prepared);
    const inline = this.inlineLane(kind);
    const result = inline
      ? this.runInline(prepared, kind, inline === 'alone' && this.widens())
      : new Promise<InferenceSamples>((resolve, reject) => {
          const wide = this.runsWide(kind);
          this.counts.threads += 1;
          this.counts.wide += wide ? 1 : 0;
          this.queue.push({ id: this.nextId++, kind, task: ownBuffer(prepared), wide, resolve, reject });
          this.dispatch();
        });
    result.then(
      () => stop({ outcome: 'ok' }),
      (error: unknown) => stop({ outcome: isAppError(error) && error.status < 500 ? 'refused' : 'failed' }),
    );
    return result;
  }

  /**
   * How many tasks ran on the API thread, how many on the threads, and how many of all of them wide (for tests and
   * benchmarks).
   */
  runs(): { inline: number; threads: number; wide: number } {
    return { ...this.counts };
  }

  /**
   * Stops every thread (their sessions go with them): queued tasks and those still waiting for their model fail
   * with 503, running ones end as they would have, and then each thread ends itself. A thread is never terminated
   * inside a run: onnxruntime-node then throws a C++ exception nothing catches, which aborts the whole process (and
   * every request under way in it).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
    for (const pending of this.queue.splice(0)) {
      pending.reject(shuttingDown());
    }
    const slots = this.slots.splice(0);
    await Promise.all([
      this.inline?.close(),
      ...slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            // Until it has ended, as a caller awaiting close() expects (an idle thread is unreferenced).
            slot.worker.ref();
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
          }),
      ),
    ]);
  }

  /**
   * Whether a task of `kind` runs on the API thread: `always` for a kind cheaper than the hop, `alone` for one that
   * may because nothing else runs or waits, `undefined` when it goes to the threads.
   */
  private inlineLane(kind: string): 'always' | 'alone' | undefined {
    const measured = this.measured.get(kind);
    if (
      measured === undefined ||
      measured.runMs >= (this.settings.inlineRunMs ?? INLINE_RUN_MS) ||
      measured.modelBytes > INLINE_MAX_MODEL_BYTES ||
      this.inlineWaiting >= INLINE_MAX_WAITING
    ) {
      return undefined;
    }
    if (measured.runMs < (this.settings.inlineAlwaysMs ?? INLINE_ALWAYS_MS)) {
      return 'always';
    }
    return this.idle() ? 'alone' : undefined;
  }

  /** Whether wide runs are on: more intra-op threads for a lone task than for one under load. */
  private widens(): boolean {
    return (this.settings.wideIntraOpThreads ?? 0) > this.settings.intraOpNumThreads;
  }

  /** Whether a task of `kind` runs wide: it was measured to run long enough, and nothing else runs or waits. */
  private runsWide(kind: string): boolean {
    const measured = this.measured.get(kind);
    return (
      this.widens() &&
      measured !== undefined &&
      measured.runMs >= (this.settings.wideMinMs ?? WIDE_MIN_MS) &&
      this.idle()
    );
  }

  /** Whether no task runs or waits anywhere. */
  private idle(): boolean {
    return this.inlineWaiting === 0 && this.queue.length === 0 && this.slots.every((slot) => !slot.current);
  }

  /**
   * Runs `task` on the API thread, failing as a thread's run would; `wide` on sessions with `wideIntraOpThreads`
   * intra-op threads (a lone task), otherwise with one (the API thread alone, under load too).
   */
  private async runInline(task: InferenceTask, kind: string, wide: boolean): Promise<InferenceSamples> {
    this.inline ??= new TaskRunner({
      intraOpNumThreads: 1,
      wideIntraOpThreads: this.settings.wideIntraOpThreads,
      cacheBytes: INLINE_CACHE_BYTES,
    });
    this.inlineWaiting += 1;
    this.counts.inline += 1;
    this.counts.wide += wide ? 1 : 0;
    try {
      const readBlobs = async (digests: readonly string[]): Promise<Map<string, Uint8Array>> => {
        try {
          const blobs = await Promise.all(
            digests.map(async (digest) => [digest, await this.settings.loadBlob(digest)] as const),
          );
          return new Map(blobs);
        } catch (err) {
          // Worded as when a thread's blobs cannot be read.
          throw err instanceof AppError ? err : new ModelReadError(err);
        }
      };
      const { result, runMs, modelBytes } = await this.inline.run(task, readBlobs, wide);
      // Measured here too: a kind first measured cold on a thread is then known at its speed on a warm one, and a
      // kind cheaper than the hop may show it only here.
      this.remember(kind, runMs, modelBytes);
      return result;
    } catch (err) {
      if (isAppError(err) || err instanceof ModelReadError) {
        throw err;
      }
      throw err instanceof InferenceModelError
        ? invalidInput(err.message, { reason: err.code })
        : new Error(`Inference failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.inlineWaiting -= 1;
    }
  }

  /** Remembers the fastest run of a kind: a slower one was slowed by something else (a cold start, a busy core). */
  private remember(kind: string, runMs: number, modelBytes: number): void {
    const before = this.measured.get(kind);
    this.measured.delete(kind);
    this.measured.set(kind, { runMs: Math.min(runMs, before?.runMs ?? Infinity), modelBytes });
    if (this.measured.size > MEASURED_KINDS) {
      this.measured.delete(this.measured.keys().next().value as string);
    }
  }

  private start(): void {
    while (this.slots.length < this.settings.threads) {
      this.slots.push(this.spawn());
    }
  }

  private spawn(): Slot {
    const data: PoolWorkerData = {
      intraOpNumThreads: this.settings.intraOpNumThreads,
      wideIntraOpThreads: this.settings.wideIntraOpThreads ?? this.settings.intraOpNumThreads,
      cacheBytes: this.settings.cacheBytesPerThread,
      nice: this.settings.nice ?? DEFAULT_POOL_NICE,
    };
    const worker = workerThread(data);
    const slot: Slot = { worker, current: undefined };
    worker.on('message', (message: FromWorker) => this.onMessage(slot, message));
    worker.on('error', (err) => this.onExit(slot, err));
    worker.on('exit', (code) => this.onExit(slot, new Error(`inference thread exited with code ${code}`)));
    worker.unref();
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.current !== undefined) {
        continue;
      }
      const next = this.queue.shift();
      if (!next) {
        return;
      }
      slot.current = next;
      // A busy thread keeps the process alive until its task ends; an idle one never does.
      slot.worker.ref();
      const input = next.task.input;
      const transfer =
        input.kind === 'file' || input.kind === 'json-text'
          ? [input.bytes.buffer]
          : input.kind === 'tensor'
            ? [input.tensor.data.buffer]
            : [];
      slot.worker.postMessage(
        { type: 'run', id: next.id, task: next.task, wide: next.wide } satisfies ToWorker,
        transfer as ArrayBuffer[],
      );
    }
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    const pending = slot.current;
    if (!pending || pending.id !== message.id) {
      return;
    }
    if (message.type === 'need') {
      // Once closing, the thread fails a task still waiting for its model (pool-worker.ts).
      if (!this.closed) {
        void this.sendBlobs(slot, pending, message.digests);
      }
      return;
    }
    slot.current = undefined;
    if (!this.closed) {
      // (A closing pool keeps its threads referenced until they end.)
      slot.worker.unref();
    }
    if (message.type === 'done') {
      // A wide run is remembered too: a kind first measured slow (a cold start) that ran wide from then on would
      // otherwise never be measured at its speed, and never run inline.
      this.remember(pending.kind, message.runMs, message.modelBytes);
      pending.resolve(message.result);
    } else {
      pending.reject(
        message.code !== null
          ? invalidInput(message.message, message.details ?? { reason: message.code })
          : this.closed
            ? shuttingDown()
            : new Error(`Inference failed: ${message.message}`),
      );
    }
    this.dispatch();
  }

  private async sendBlobs(slot: Slot, pending: Pending, digests: readonly string[]): Promise<void> {
    try {
      const blobs = await Promise.all(
        digests.map(async (digest) => [digest, await this.settings.loadBlob(digest)] as const),
      );
      // Copies (a Buffer's slice would be a view), so the transfer never detaches a buffer someone still uses.
      const copies = blobs.map(([digest, bytes]) => [digest, new Uint8Array(bytes)] as const);
      slot.worker.postMessage(
        { type: 'blobs', id: pending.id, blobs: copies } satisfies ToWorker,
        copies.map(([, bytes]) => bytes.buffer),
      );
    } catch (err) {
      if (this.closed) {
        // The thread, told to close, fails the task itself (a 503).
        return;
      }
      // The worker waits for these blobs: a replacement thread takes over the queue.
      slot.current = undefined;
      pending.reject(err instanceof AppError ? err : new ModelReadError(err));
      this.replace(slot);
    }
  }

  private onExit(slot: Slot, err: unknown): void {
    const pending = slot.current;
    slot.current = undefined;
    pending?.reject(err instanceof Error ? err : new Error(String(err)));
    if (!this.closed && this.slots.includes(slot)) {
      this.replace(slot);
    }
  }

  /** Ends a thread that is not inside a run (it ended, or waits for blobs that failed) and starts another. */
  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) {
      this.slots.splice(index, 1);
      void slot.worker.terminate();
    }
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.dispatch();
    }
  }
}

function shuttingDown(): AppError {
  return unavailable('Inference is shutting down.', RETRY_AFTER_SECONDS, { reason: 'shutting_down' });
}

/** A pool thread: the compiled worker, or under tsx/jest the TypeScript source loaded through tsx. */
function workerThread(data: PoolWorkerData): Worker {
  const compiled = path.join(__dirname, 'pool-worker.js');
  if (__filename.endsWith('.js')) {
    return new Worker(compiled, { workerData: data });
  }
  const source = path.join(__dirname, 'pool-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: data });
}

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, invalidInput, isAppError, unavailable } from '../errors';
import { inferenceDuration, watchInferenceQueue } from '../metrics/metrics';
import { decodeModelInput, type ModelInputSource } from './input/model-input';
import type { PoolWorkerData } from './pool-worker';
import type { FromWorker, InferenceSamples, InferenceTask, ToWorker } from './task';

/** How the pool runs. */
export interface InferencePoolSettings {
  /** Worker threads, each with its own sessions; a task runs on one of them. */
  readonly threads: number;
  /** onnxruntime's intra-op threads per session. */
  readonly intraOpNumThreads: number;
  /** Bytes of model whose sessions each thread keeps (least recently used out, released on eviction). */
  readonly cacheBytesPerThread: number;
  /** Tasks waiting for a thread beyond which a new one is refused with 503. */
  readonly maxQueued: number;
  /** Reads a blob (a model, a moment file) by digest, for a thread that lacks a session. */
  readonly loadBlob: (digest: string) => Promise<Uint8Array>;
}

interface Pending {
  readonly id: number;
  readonly task: InferenceTask;
  readonly resolve: (result: InferenceSamples) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
}

const RETRY_AFTER_SECONDS = 2;

/**
 * The input as it crosses to the pool thread, moved rather than copied. A file's bytes get a buffer of their own
 * (never a view into a shared one). A JSON nested list is decoded here, on the API thread: walking it once costs
 * less than the structured clone of its millions of small arrays would, and the float32 result moves for free.
 * @throws 400 for a nested list that is not a tensor (the pool thread would say the same).
 */
function transferable(input: ModelInputSource): ModelInputSource {
  if (input.kind === 'file') {
    return { ...input, bytes: new Uint8Array(input.bytes) };
  }
  if (input.kind === 'json' && Array.isArray(input.value)) {
    return { kind: 'tensor', tensor: decodeModelInput(input).tensor };
  }
  return input;
}

/**
 * Runs inference tasks on `worker_threads`, so creating sessions and `session.run` (synchronous in onnxruntime-node)
 * never block the API's event loop. Threads start on the first task. A task waits in a bounded FIFO queue for an idle
 * thread; each thread caches its own sessions and asks for blobs only when it lacks one. A thread that dies fails its
 * task and is replaced.
 */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /** Stops counting this pool's queue in the metrics. */
  private readonly unwatch: () => void;

  constructor(private readonly settings: InferencePoolSettings) {
    this.unwatch = watchInferenceQueue(() => this.queue.length);
  }

  /** Runs a task. @throws 503 when the queue is full, 400 for a model or input the model refuses. */
  run(task: InferenceTask): Promise<InferenceSamples> {
    if (this.closed) {
      return Promise.reject(
        unavailable('Inference is shutting down.', RETRY_AFTER_SECONDS, { reason: 'shutting_down' }),
      );
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
    const result = new Promise<InferenceSamples>((resolve, reject) => {
      const input = transferable(task.input);
      this.queue.push({ id: this.nextId++, task: { ...task, input }, resolve, reject });
      this.dispatch();
    });
    result.then(
      () => stop({ outcome: 'ok' }),
      (error: unknown) => stop({ outcome: isAppError(error) && error.status < 500 ? 'refused' : 'failed' }),
    );
    return result;
  }

  /** Stops every thread (their sessions go with them); running and queued tasks fail with 503. */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
    const running = this.slots.flatMap((slot) => (slot.current ? [slot.current] : []));
    for (const pending of [...running, ...this.queue.splice(0)]) {
      pending.reject(unavailable('Inference is shutting down.', RETRY_AFTER_SECONDS, { reason: 'shutting_down' }));
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }

  private start(): void {
    while (this.slots.length < this.settings.threads) {
      this.slots.push(this.spawn());
    }
  }

  private spawn(): Slot {
    const data: PoolWorkerData = {
      intraOpNumThreads: this.settings.intraOpNumThreads,
      cacheBytes: this.settings.cacheBytesPerThread,
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
        { type: 'run', id: next.id, task: next.task } satisfies ToWorker,
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
      void this.sendBlobs(slot, pending, message.digests);
      return;
    }
    slot.current = undefined;
    slot.worker.unref();
    if (message.type === 'done') {
      pending.resolve(message.result);
    } else {
      pending.reject(
        message.code === null
          ? new Error(`Inference failed: ${message.message}`)
          : invalidInput(message.message, message.details ?? { reason: message.code }),
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
      // The worker waits for these blobs: a replacement thread takes over the queue.
      slot.current = undefined;
      pending.reject(err instanceof AppError ? err : new Error(`Inference could not read a model: ${String(err)}`));
      this.replace(slot);
    }
  }

  private onExit(slot: Slot, err: unknown): void {
    if (this.closed || !this.slots.includes(slot)) {
      return;
    }
    const pending = slot.current;
    slot.current = undefined;
    pending?.reject(err instanceof Error ? err : new Error(String(err)));
    this.replace(slot);
  }

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

/** A pool thread: the compiled worker, or under tsx/jest the TypeScript source loaded through tsx. */
function workerThread(data: PoolWorkerData): Worker {
  const compiled = path.join(__dirname, 'pool-worker.js');
  if (__filename.endsWith('.js')) {
    return new Worker(compiled, { workerData: data });
  }
  const source = path.join(__dirname, 'pool-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: data });
}

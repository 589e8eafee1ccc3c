import { parentPort, workerData } from 'node:worker_threads';
import { isAppError } from '../errors';
import type { FromWorker, InferenceTask, ToWorker } from './task';
import { TaskRunner } from './task-runner';
import { lowerThreadPriority } from './thread-priority';
import { InferenceModelError } from './variants';

/** What the pool hands every worker at its start. */
export interface PoolWorkerData {
  readonly intraOpNumThreads: number;
  readonly wideIntraOpThreads: number;
  readonly cacheBytes: number;
  /** Nice steps the thread (and the onnxruntime threads its sessions start) runs below the process; 0: none. */
  readonly nice: number;
}

const settings = workerData as PoolWorkerData;
// Before any session exists, so that onnxruntime's threads inherit it.
lowerThreadPriority(settings.nice);
const port = parentPort;
const runner = new TaskRunner(settings);
/** Set by the pool's `close` message: from then on the pool sends no blobs. */
let closing = false;
/** The tasks waiting for their models' blobs from the pool, by id. */
const waiting = new Map<number, { resolve: (blobs: Map<string, Uint8Array>) => void; reject: (err: Error) => void }>();

port?.on('message', (message: ToWorker) => {
  if (message.type === 'blobs') {
    waiting.get(message.id)?.resolve(new Map(message.blobs));
    waiting.delete(message.id);
    return;
  }
  if (message.type === 'close') {
    void close();
    return;
  }
  // One task at a time (the runner queues them): sessions run with their own intra-op threads.
  void answer(message.id, message.task, message.wide);
});

/**
 * Ends the thread once the task under way has answered (the pool sends no task after this message), with its
 * sessions released: a thread terminated from outside while onnxruntime runs aborts the whole process.
 */
async function close(): Promise<void> {
  // The pool answers no more requests for blobs: a task still waiting for its model fails (with 503 in the pool), and
  // so would one that asked only now.
  closing = true;
  for (const { reject } of waiting.values()) {
    reject(closedBeforeRead());
  }
  waiting.clear();
  await runner.close();
  process.exit(0);
}

async function answer(id: number, task: InferenceTask, wide: boolean): Promise<void> {
  try {
    const { result, runMs, modelBytes } = await runner.run(
      task,
      (digests) =>
        closing
          ? Promise.reject(closedBeforeRead())
          : new Promise((resolve, reject) => {
              waiting.set(id, { resolve, reject });
              post({ type: 'need', id, digests });
            }),
      wide,
    );
    post({ type: 'done', id, result, runMs, modelBytes }, [result.samples.data.buffer as ArrayBuffer]);
  } catch (err) {
    if (isAppError(err) && err.status === 400) {
      post({ type: 'failed', id, code: err.code, message: err.message, details: err.details });
      return;
    }
    const code = err instanceof InferenceModelError ? err.code : null;
    post({ type: 'failed', id, code, message: err instanceof Error ? err.message : String(err) });
  }
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function closedBeforeRead(): Error {
  return new Error('the inference pool closed before the model was read');
}

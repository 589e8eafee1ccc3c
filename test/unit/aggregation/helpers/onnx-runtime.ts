import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { normalizedInput } from './fixtures';

/**
 * Runs onnxruntime-node in a worker thread. Inside jest's module sandbox the library's own `instanceof Float32Array`
 * check fails on the tensors its native binding returns (two realms), so inference runs where Node loaded it.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(Buffer.from(workerData.model), { intraOpNumThreads: 1 });
  const feeds = {};
  for (const [name, feed] of Object.entries(workerData.feeds)) {
    feeds[name] = new ort.Tensor(feed.type, feed.type === 'float16' ? new Uint16Array(feed.data) : new Float32Array(feed.data), feed.dims);
  }
  const out = await session.run(feeds);
  const result = {};
  for (const name of session.outputNames) result[name] = Array.from(out[name].data, Number);
  await session.release();
  parentPort.postMessage(result);
})().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
`;

/** One named input: element type, dims and values (float16 given as bit patterns). */
export interface Feed {
  readonly type: 'float32' | 'float16';
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** Every output of `model` on `feeds`, flattened. */
export async function runModel(
  model: Uint8Array,
  feeds: Readonly<Record<string, Feed>>,
): Promise<Record<string, number[]>> {
  const worker = new Worker(WORKER, { eval: true, workerData: { model, feeds } });
  try {
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const parsed = z.union([z.object({ error: z.string() }), z.record(z.string(), z.array(z.number()))]).parse(message);
    if (typeof parsed.error === 'string') {
      throw new Error(parsed.error);
    }
    return z.record(z.string(), z.array(z.number())).parse(parsed);
  } finally {
    await worker.terminate();
  }
}

/** The logits onnxruntime computes for the 16 fixture digits, as 16 rows of 10. */
export async function runLogits(model: Uint8Array): Promise<number[][]> {
  const outputs = await runModel(model, {
    input: { type: 'float32', dims: [16, 1, 28, 28], data: Array.from(normalizedInput()) },
  });
  const logits = outputs.logits ?? [];
  return Array.from({ length: 16 }, (_, n) => logits.slice(n * 10, n * 10 + 10));
}

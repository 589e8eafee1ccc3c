/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { fixture } from '../../fixtures/onnx-edge-cases';
import { InferencePool } from '../../../src/inference/pool';
import type { InferenceTask } from '../../../src/inference/task';

const mlp = fixture('mlp-global-r0.onnx');

function task(overrides: Partial<InferenceTask> = {}): InferenceTask {
  return {
    sessions: [{ key: 'mlp:dropout-off', digest: 'mlp', variant: { kind: 'dropout', training: false } }],
    passes: 1,
    softmax: false,
    inputShape: [null, 1, 28, 28],
    input: { kind: 'json', value: [[Array.from({ length: 28 }, () => new Array<number>(28).fill(0.5))]] },
    ...overrides,
  };
}

describe('InferencePool', () => {
  it('when several tasks share a model, reads its blob once per thread and answers each', async () => {
    const reads: string[] = [];
    const pool = new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 26,
      maxQueued: 8,
      loadBlob: (digest) => {
        reads.push(digest);
        return Promise.resolve(mlp);
      },
    });
    try {
      const results = await Promise.all([task(), task(), task()].map((t) => pool.run(t)));
      expect(results.map((r) => [r.outputName, r.samples.dims])).toEqual([
        ['logits', [1, 1, 10]],
        ['logits', [1, 1, 10]],
        ['logits', [1, 1, 10]],
      ]);
      expect(reads).toEqual(['mlp']);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('when the queue is full, refuses with 503 and Retry-After; running and queued tasks fail with 503 on close', async () => {
    const pool = new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 26,
      maxQueued: 1,
      // Never answers: the first task holds the thread, the second waits in the queue.
      loadBlob: () => new Promise<Uint8Array>(() => undefined),
    });
    const running = expect(pool.run(task())).rejects.toMatchObject({ status: 503 });
    const queued = expect(pool.run(task())).rejects.toMatchObject({ status: 503 });
    await expect(pool.run(task())).rejects.toMatchObject({
      status: 503,
      message: 'Inference is at capacity right now; retry the same request.',
      headers: { 'Retry-After': '2' },
    });
    await pool.close();
    await running;
    await queued;
  }, 30_000);

  it('when a blob cannot be read, fails that task and serves the next one on a fresh thread', async () => {
    let fail = true;
    const pool = new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 26,
      maxQueued: 8,
      loadBlob: () => (fail ? Promise.reject(new Error('disk gone')) : Promise.resolve(mlp)),
    });
    try {
      await expect(pool.run(task())).rejects.toThrow('Inference could not read a model');
      fail = false;
      expect((await pool.run(task())).samples.dims).toEqual([1, 1, 10]);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('when the input does not fit the model, answers a 400 carrying the decoder\u2019s reason', async () => {
    const pool = new InferencePool({
      threads: 1,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 26,
      maxQueued: 8,
      loadBlob: () => Promise.resolve(mlp),
    });
    try {
      await expect(pool.run(task({ input: { kind: 'json', value: [[1, 2]] } }))).rejects.toMatchObject({
        status: 400,
        details: { reason: 'shape_mismatch' },
      });
    } finally {
      await pool.close();
    }
  }, 30_000);
});

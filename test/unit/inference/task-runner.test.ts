/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import fs from 'node:fs';
import { fixture } from '../../fixtures/onnx-edge-cases';
import type { InferenceTask } from '../../../src/inference/task';
import { TaskRunner } from '../../../src/inference/task-runner';
import { waitFor } from '../../support/wait';

const mlp = fixture('mlp-global-r0.onnx');

/** The threads of this process: onnxruntime's intra-op threads are among them. */
const threads = (): number => fs.readdirSync('/proc/self/task').length;

const digit: InferenceTask = {
  sessions: [{ key: 'mlp:dropout-off', digest: 'mlp', variant: { kind: 'dropout', training: false } }],
  passes: 1,
  softmax: false,
  inputShape: [null, 1, 28, 28],
  input: { kind: 'json', value: [[Array.from({ length: 28 }, (_, r) => new Array<number>(28).fill(r / 28))]] },
};

describe('TaskRunner', () => {
  it('runs a wide task on sessions of their own with the wide intra-op threads, which close releases', async () => {
    const reads: string[][] = [];
    const runner = new TaskRunner({ intraOpNumThreads: 1, wideIntraOpThreads: 3, cacheBytes: 1 << 26 });
    const fetch = (digests: readonly string[]) => {
      reads.push([...digests]);
      return Promise.resolve(new Map([['mlp', mlp]]));
    };
    let before: number;
    try {
      const narrow = await runner.run(digit, fetch);
      before = threads();
      const wide = await runner.run(digit, fetch, true);
      // Three intra-op threads: the calling thread and two of onnxruntime's own.
      expect(threads()).toBe(before + 2);
      expect(Array.from(wide.result.samples.data)).toEqual(Array.from(narrow.result.samples.data));
      expect(wide.modelBytes).toBe(mlp.byteLength);
      // Both kinds of session stay cached: no more reads, no more threads.
      await runner.run(digit, fetch);
      await runner.run(digit, fetch, true);
      expect(reads).toEqual([['mlp'], ['mlp']]);
      expect(threads()).toBe(before + 2);
    } finally {
      await runner.close();
    }
    // The wide session's threads end with it (a narrow session has none of its own). A joined thread can still be
    // listed for a moment: the kernel wakes the joiner as the thread releases its memory, before the thread is reaped.
    await waitFor(() => threads() === before, 5_000, 10).catch(() => undefined);
    expect(threads()).toBe(before);
  }, 30_000);
});

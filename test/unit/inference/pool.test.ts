/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import fs from 'node:fs';
import { fixture } from '../../fixtures/onnx-edge-cases';
import { InferencePool, type InferencePoolSettings } from '../../../src/inference/pool';
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

/** Runs `use` with a pool of one thread on the MLP (`reads` gets each blob read) and `overrides`, then closes it. */
async function withPool(
  overrides: Partial<InferencePoolSettings>,
  use: (pool: InferencePool) => Promise<void>,
  reads: string[] = [],
): Promise<void> {
  const pool = new InferencePool({
    threads: 1,
    intraOpNumThreads: 1,
    cacheBytesPerThread: 1 << 26,
    maxQueued: 8,
    loadBlob: (digest) => {
      reads.push(digest);
      return Promise.resolve(mlp);
    },
    ...overrides,
  });
  try {
    await use(pool);
  } finally {
    await pool.close();
  }
}

describe('InferencePool', () => {
  it('when several tasks share a model, reads its blob once per thread and answers each', async () => {
    const reads: string[] = [];
    await withPool(
      {},
      async (pool) => {
        const results = await Promise.all([task(), task(), task()].map((t) => pool.run(t)));
        expect(results.map((r) => [r.outputName, r.samples.dims])).toEqual([
          ['logits', [1, 1, 10]],
          ['logits', [1, 1, 10]],
          ['logits', [1, 1, 10]],
        ]);
      },
      reads,
    );
    expect(reads).toEqual(['mlp']);
  }, 30_000);

  it('when the queue is full, refuses with 503 and Retry-After; a task waiting for its model and a queued one fail with 503 on close', async () => {
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

  it('when closed while tasks run, lets the running ones answer, refuses the queued ones with 503 and keeps the process', async () => {
    // 512 samples of the CNN take tens of milliseconds a run: the close below comes while both threads run one. A
    // thread terminated inside onnxruntime's run aborts the process (jest then reports this file's worker as crashed).
    const cnn = fixture('cnn-global-r0.onnx');
    const pool = new InferencePool({
      threads: 2,
      intraOpNumThreads: 1,
      cacheBytesPerThread: 1 << 26,
      maxQueued: 8,
      loadBlob: () => Promise.resolve(cnn),
    });
    const big = (): InferenceTask =>
      task({
        sessions: [{ key: 'cnn:dropout-off', digest: 'cnn', variant: { kind: 'dropout', training: false } }],
        input: { kind: 'tensor', tensor: { dims: [512, 1, 28, 28], data: new Float32Array(512 * 784).fill(0.5) } },
      });
    // Both threads create their sessions first.
    await Promise.all([pool.run(big()), pool.run(big())]);
    const outcomes = [big(), big(), big(), big()].map((each) =>
      pool.run(each).then(
        (result) => result.samples.dims,
        (err: unknown) => (err as { status?: number; message?: string }).message,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.close();
    expect(await Promise.all(outcomes)).toEqual([
      [1, 512, 10],
      [1, 512, 10],
      'Inference is shutting down.',
      'Inference is shutting down.',
    ]);
    await expect(pool.run(big())).rejects.toMatchObject({ status: 503, message: 'Inference is shutting down.' });
  }, 60_000);

  it('when a blob cannot be read, fails that task and serves the next one on a fresh thread', async () => {
    let fail = true;
    const loadBlob = () => (fail ? Promise.reject(new Error('disk gone')) : Promise.resolve(mlp));
    await withPool({ loadBlob }, async (pool) => {
      await expect(pool.run(task())).rejects.toThrow('Inference could not read a model');
      fail = false;
      expect((await pool.run(task())).samples.dims).toEqual([1, 1, 10]);
    });
  }, 30_000);

  it('when the input does not fit the model, answers a 400 carrying the decoder\u2019s reason', async () => {
    await withPool({}, async (pool) => {
      await expect(pool.run(task({ input: { kind: 'json', value: [[1, 2]] } }))).rejects.toMatchObject({
        status: 400,
        details: { reason: 'shape_mismatch' },
      });
    });
  }, 30_000);

  it('runs its threads and their onnxruntime threads the nice steps set below the API thread, which keeps its own', async () => {
    const nice = (): Map<number, number> =>
      new Map(
        fs.readdirSync('/proc/self/task').flatMap((tid): [number, number][] => {
          // A thread that ended since the listing (an earlier test's) has no stat to read.
          let stat: string;
          try {
            stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
          } catch {
            return [];
          }
          // Fields after the command name (in parentheses): nice is the 19th field, the 17th after it.
          return [[Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])]];
        }),
      );
    const before = nice();
    // Two intra-op threads: onnxruntime starts one of its own, which must inherit the value.
    await withPool({ nice: 7, intraOpNumThreads: 2 }, async (pool) => {
      await pool.run(task());
      const started = [...nice()].filter(([tid]) => !before.has(tid));
      const lowered = Math.min(19, (before.get(process.pid) ?? 0) + 7);
      expect(started.filter(([, value]) => value === lowered).length).toBeGreaterThanOrEqual(2);
      expect(nice().get(process.pid)).toBe(before.get(process.pid));
    });
  }, 30_000);

  describe('the API thread lane', () => {
    const digit = () => [
      [Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => ((r + c) % 9) / 9))],
    ];
    const runDigit = (pool: InferencePool) => pool.run(task({ input: { kind: 'json', value: digit() } }));

    // A generous limit: a cold first run on a busy machine must not decide these tests.
    const generous = { inlineRunMs: 50 };

    it('when a kind of task ran fast on a thread, runs it on the API thread from then on, with the same output', async () => {
      const reads: string[] = [];
      await withPool(
        generous,
        async (pool) => {
          const onThread = await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 0, threads: 1, wide: 0 });
          const inline = await runDigit(pool);
          const again = await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 2, threads: 1, wide: 0 });
          expect(Array.from(inline.samples.data)).toEqual(Array.from(onThread.samples.data));
          expect(again.samples.dims).toEqual(onThread.samples.dims);
          // The API thread keeps sessions of its own: it read the model once more, then never again.
          expect(reads).toEqual(['mlp', 'mlp']);
          // Another size of input is another kind: measured on a thread first.
          await pool.run(task({ input: { kind: 'json', value: [digit()[0], digit()[0], digit()[0]] } }));
          expect(pool.runs()).toEqual({ inline: 2, threads: 2, wide: 0 });
        },
        reads,
      );
    }, 30_000);

    it("when the API thread cannot read the model, fails in a thread's words", async () => {
      let reads = 0;
      // The thread's read succeeds, the API thread's fails.
      const loadBlob = () => (reads++ === 0 ? Promise.resolve(mlp) : Promise.reject(new Error('disk gone')));
      await withPool({ inlineRunMs: 50, loadBlob }, async (pool) => {
        await runDigit(pool);
        await expect(runDigit(pool)).rejects.toThrow('Inference could not read a model: Error: disk gone');
        expect(pool.runs()).toEqual({ inline: 1, threads: 1, wide: 0 });
      });
    }, 30_000);

    it('when the input is wrong, refuses it on the API thread with the same 400 as a thread', async () => {
      await withPool(generous, async (pool) => {
        await runDigit(pool);
        // As many numbers as a digit, so the same kind of task, in the wrong shape.
        const flat = { kind: 'json' as const, value: [digit()[0]![0]!.flat()] };
        await expect(pool.run(task({ input: flat }))).rejects.toMatchObject({
          status: 400,
          details: { reason: 'shape_mismatch' },
        });
        expect(pool.runs().inline).toBe(1);
      });
    }, 30_000);

    it('when a kind runs slower than the hop, runs it inline only while nothing else runs or waits', async () => {
      // Every kind counts as slower than the hop.
      await withPool({ ...generous, inlineAlwaysMs: 0 }, async (pool) => {
        await runDigit(pool);
        await runDigit(pool);
        expect(pool.runs()).toEqual({ inline: 1, threads: 1, wide: 0 });
        // Three at once: the first finds the pool idle, the others find it busy.
        await Promise.all([runDigit(pool), runDigit(pool), runDigit(pool)]);
        expect(pool.runs()).toEqual({ inline: 2, threads: 3, wide: 0 });
      });
    }, 30_000);

    it('when a measured kind finds the pool idle, runs it wide on sessions of its own, with the same output', async () => {
      const reads: string[] = [];
      // Nothing inline, and every kind long enough to run wide.
      await withPool(
        { inlineRunMs: 0, wideIntraOpThreads: 2, wideMinMs: 0 },
        async (pool) => {
          const narrow = await runDigit(pool);
          // Measured first, on the usual sessions.
          expect(pool.runs()).toEqual({ inline: 0, threads: 1, wide: 0 });
          const wide = await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 0, threads: 2, wide: 1 });
          expect(Array.from(wide.samples.data)).toEqual(Array.from(narrow.samples.data));
          // The wide sessions are the thread's own: the model was read once more for them.
          expect(reads).toEqual(['mlp', 'mlp']);
          // Three at once: the first finds the pool idle, the others wait behind it and run as usual.
          await Promise.all([runDigit(pool), runDigit(pool), runDigit(pool)]);
          expect(pool.runs()).toEqual({ inline: 0, threads: 5, wide: 2 });
          expect(reads).toEqual(['mlp', 'mlp']);
        },
        reads,
      );
    }, 30_000);

    it('when a kind that runs inline only when alone finds the pool idle, runs it on wide sessions of its own there', async () => {
      const reads: string[] = [];
      // Every kind slower than the hop, fast enough to run inline when alone, too brief to run wide on a thread.
      await withPool(
        { inlineRunMs: 50, inlineAlwaysMs: 0, wideIntraOpThreads: 2, wideMinMs: 1_000 },
        async (pool) => {
          const onThread = await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 0, threads: 1, wide: 0 });
          const alone = await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 1, threads: 1, wide: 1 });
          expect(Array.from(alone.samples.data)).toEqual(Array.from(onThread.samples.data));
          await runDigit(pool);
          // The API thread created its wide session once.
          expect(reads).toEqual(['mlp', 'mlp']);
          // Three at once: the first finds the pool idle, the others find it busy and go to the thread.
          await Promise.all([runDigit(pool), runDigit(pool), runDigit(pool)]);
          expect(pool.runs()).toEqual({ inline: 3, threads: 3, wide: 3 });
        },
        reads,
      );
    }, 30_000);

    it('when a kind runs inline even under load, runs it on one intra-op thread, wide runs on or not', async () => {
      // Every kind cheaper than the hop.
      await withPool({ inlineRunMs: 50, inlineAlwaysMs: 50, wideIntraOpThreads: 2, wideMinMs: 1_000 }, async (pool) => {
        await runDigit(pool);
        await runDigit(pool);
        await Promise.all([runDigit(pool), runDigit(pool)]);
        expect(pool.runs()).toEqual({ inline: 3, threads: 1, wide: 0 });
      });
    }, 30_000);

    it('when wide runs are off or the kind runs too briefly, never runs wide', async () => {
      for (const lane of [
        { inlineRunMs: 0, wideIntraOpThreads: 1, wideMinMs: 0 },
        { inlineRunMs: 0, wideIntraOpThreads: 2, wideMinMs: 1_000 },
      ]) {
        await withPool(lane, async (pool) => {
          await runDigit(pool);
          await runDigit(pool);
          expect(pool.runs()).toEqual({ inline: 0, threads: 2, wide: 0 });
        });
      }
    }, 30_000);

    // Off, and a limit of a microsecond, which the MLP's runs all take longer than.
    it.each([0, 0.001])(
      'when the limit is %s ms, keeps every task on the threads',
      async (inlineRunMs) => {
        await withPool({ inlineRunMs }, async (pool) => {
          for (let i = 0; i < 3; i++) {
            await runDigit(pool);
          }
          expect(pool.runs()).toEqual({ inline: 0, threads: 3, wide: 0 });
        });
      },
      30_000,
    );
  });
});

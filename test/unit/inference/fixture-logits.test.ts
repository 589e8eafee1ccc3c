/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { aggregate } from '../../../src/aggregation/aggregate';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource, collectBytes, fileSource } from '../../../src/onnx/model-source';
import { CLIENTS, fixture, normalizedInput, referenceLogits } from '../aggregation/helpers/fixtures';
import { maxAbsDiff, runDigits, runModelBytes, sessionOptions } from './helpers/ort-run';

describe('inference on the fixture models', () => {
  it.each(['mlp-global-r0', 'cnn-global-r0'] as const)(
    'when %s runs on the 16 digits, its logits equal PyTorch’s within 1e-4',
    async (model) => {
      const started = performance.now();
      const session = await ort.InferenceSession.create(readFileSync(fixture(`${model}.onnx`)), sessionOptions());
      const created = performance.now();
      try {
        const logits = await runDigits(session);
        process.stdout.write(
          `${model}: session ${(created - started).toFixed(1)} ms, run ${(performance.now() - created).toFixed(1)} ms\n`,
        );
        expect(maxAbsDiff(logits, referenceLogits(model).flat())).toBeLessThan(1e-4);
      } finally {
        await session.release();
      }
    },
  );

  it('when the three MLP clients are averaged with FedAvg, the model computes a float64 forward pass within 1e-4', async () => {
    const result = await aggregate({
      method: 'FedAvg',
      global: fileSource(fixture('mlp-global-r0.onnx')),
      updates: CLIENTS.map(({ id, sampleSize }) => ({
        clientId: id,
        sampleSize,
        source: fileSource(fixture(`mlp-client-${id}.onnx`)),
      })),
    });
    const averaged = await collectBytes(result.model);
    const [logits] = await runModelBytes(averaged);
    const weights = await readFloatInitializers(bytesSource(averaged)());
    expect(maxAbsDiff(logits ?? [], mlpForward(weights, normalizedInput(), 16))).toBeLessThan(1e-4);
  });
});

/** Flatten → Gemm(1.weight, 1.bias, transB) → Relu → Gemm(4.weight, 4.bias, transB), in float64. */
function mlpForward(weights: ReadonlyMap<string, ArrayLike<number>>, input: Float64Array, batch: number): Float64Array {
  const hidden = gemm(input, batch, 784, weight(weights, '1.weight'), weight(weights, '1.bias'), 128).map((x) =>
    Math.max(x, 0),
  );
  return gemm(hidden, batch, 128, weight(weights, '4.weight'), weight(weights, '4.bias'), 10);
}

/** x [n, k] · Wᵀ (W [m, k]) + b [m]. */
function gemm(x: Float64Array, n: number, k: number, w: ArrayLike<number>, b: ArrayLike<number>, m: number) {
  const out = new Float64Array(n * m);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < m; col++) {
      let sum = b[col] ?? 0;
      for (let i = 0; i < k; i++) {
        sum += (x[row * k + i] ?? 0) * (w[col * k + i] ?? 0);
      }
      out[row * m + col] = sum;
    }
  }
  return out;
}

function weight(weights: ReadonlyMap<string, ArrayLike<number>>, name: string): ArrayLike<number> {
  const values = weights.get(name);
  if (values === undefined) {
    throw new Error(`the model has no initializer ${name}`);
  }
  return values;
}

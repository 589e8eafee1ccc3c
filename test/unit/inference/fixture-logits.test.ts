/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { aggregate } from '../../../src/aggregation/aggregate';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource, collectBytes, fileSource } from '../../../src/onnx/model-source';
import { CLIENTS, fixture, normalizedInput, referenceLogits } from '../aggregation/helpers/fixtures';
import { mlpForward } from '../../support/mlp-forward';
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

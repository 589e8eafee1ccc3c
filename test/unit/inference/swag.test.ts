/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { readFileSync } from 'node:fs';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource } from '../../../src/onnx/model-source';
import { writeSafetensors } from '../../../src/aggregation/safetensors';
import { seededNormal } from '../../../src/seeded-random';
import type { SwagSampling } from '../../../src/inference/swag';
import { sampleSwagModels } from '../../../src/inference/swag';
import { fixture } from '../aggregation/helpers/fixtures';
import { maxAbsDiff, runModelBytes } from './helpers/ort-run';

const model = readFileSync(fixture('mlp-global-r0.onnx'));
/** Each weight's SWAG std in the nonzero-variance tests. */
const SIGMA = 0.01;

describe('sampleSwagModels', () => {
  it('when the variance is zero, every sample is the mean model, byte for byte and in its outputs', async () => {
    const means = await weightsOf(model);
    const samples = await draw({ ...moments(means, 0), samples: 3, normal: seededNormal(1) });
    const [expected] = await runModelBytes(model);
    for (const sample of samples) {
      expect(Buffer.compare(sample, model)).toBe(0);
      const [outputs] = await runModelBytes(sample);
      expect(maxAbsDiff(outputs ?? [], expected ?? [])).toBe(0);
    }
  });

  it('when the variance is positive, samples differ and each weight spreads with the expected std', async () => {
    const means = await weightsOf(model);
    const samples = await draw({ ...moments(means, SIGMA), samples: 40, normal: seededNormal(7) });
    const [a, b] = await Promise.all(samples.slice(0, 2).map((sample) => runModelBytes(sample)));
    expect(maxAbsDiff(a?.[0] ?? [], b?.[0] ?? [])).toBeGreaterThan(1e-3);
    const bias = means.get('1.bias') ?? new Float32Array(0);
    const drawn = await Promise.all(samples.map(async (sample) => (await weightsOf(sample)).get('1.bias')));
    // z-scores of 40 samples × 128 biases: their mean is 0 ± 0.05 and their std 1 ± 0.03 (four standard errors).
    const z = drawn.flatMap((values) => Array.from(values ?? [], (value, i) => (value - (bias[i] ?? 0)) / SIGMA));
    const mean = z.reduce((sum, value) => sum + value, 0) / z.length;
    const std = Math.sqrt(z.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (z.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(std - 1)).toBeLessThan(0.04);
  });

  it('when the seed is the same, the samples are the same bytes; another seed gives others', async () => {
    const base = moments(await weightsOf(model), SIGMA);
    const [first] = await draw({ ...base, samples: 1, normal: seededNormal(42) });
    const [again] = await draw({ ...base, samples: 1, normal: seededNormal(42) });
    const [other] = await draw({ ...base, samples: 1, normal: seededNormal(43) });
    expect(Buffer.compare(first ?? model, again ?? model)).toBe(0);
    expect(Buffer.compare(first ?? model, other ?? model)).not.toBe(0);
    expect(first?.length).toBe(model.length);
  });

  it('when the moments miss a float initializer, it refuses them with a 400 naming it', async () => {
    const means = await weightsOf(model);
    means.delete('4.bias');
    await expect(draw({ ...moments(means, 0), samples: 1, normal: seededNormal(1) })).rejects.toMatchObject({
      code: 'invalid_input',
      status: 400,
      message: expect.stringContaining('"4.bias"') as unknown,
    });
  });
});

/** The model's float32 initializers, by name. */
async function weightsOf(bytes: Uint8Array): Promise<Map<string, Float32Array>> {
  const values = await readFloatInitializers(bytesSource(bytes)());
  return new Map([...values].map(([name, array]) => [name, Float32Array.from(array)]));
}

/** The MLP's initializer shapes. */
const SHAPES = new Map([
  ['1.weight', [128, 784]],
  ['1.bias', [128]],
  ['4.weight', [10, 128]],
  ['4.bias', [10]],
]);

/** First and second moment files of N(means, sigma²) per weight, as `aggregateSwag` stores them. */
function moments(
  means: ReadonlyMap<string, Float32Array>,
  sigma: number,
): Pick<SwagSampling, 'model' | 'firstMoment' | 'secondMoment'> {
  const file = (moment: (mu: number) => number) =>
    writeSafetensors(
      new Map(
        [...means].map(([name, values]) => [
          name,
          { shape: SHAPES.get(name) ?? [values.length], values: Float32Array.from(values, moment) },
        ]),
      ),
    );
  return { model, firstMoment: file((mu) => mu), secondMoment: file((mu) => mu * mu + sigma * sigma) };
}

async function draw(sampling: SwagSampling): Promise<Uint8Array[]> {
  const samples: Uint8Array[] = [];
  for await (const sample of sampleSwagModels(sampling)) {
    samples.push(sample);
  }
  return samples;
}

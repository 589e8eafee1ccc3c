import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** The shared PyTorch-exported fixtures (`../shared/fixtures` beside the repository). */
export const FIXTURES = process.env.ROUNDHOUSE_FIXTURES ?? resolve(__dirname, '../../../../../shared/fixtures');

/** The path of one fixture file. */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

const readme = z
  .object({
    sizes: z.object({ a: z.number(), b: z.number(), c: z.number() }),
    normalization: z.object({ mean: z.number(), std: z.number() }),
    mlp: z.object({ state_keys: z.array(z.string()), param_count: z.number() }),
    cnn: z.object({ state_keys: z.array(z.string()), param_count: z.number() }),
  })
  .parse(JSON.parse(readFileSync(fixture('README.json'), 'utf8')));

/** README.json: the clients' sample sizes, the input normalization, the models' parameter names and counts. */
export const FIXTURE_FACTS = readme;

/** The three clients in the fixtures, with their sample sizes. */
export const CLIENTS = (['a', 'b', 'c'] as const).map((id) => ({ id, sampleSize: readme.sizes[id] }));

/** The 16 MNIST test digits. */
export function mnistBatch(): { labels: number[]; pixels: number[][] } {
  const batch = z
    .object({ labels: z.array(z.number()), pixels_0_255: z.array(z.array(z.number())) })
    .parse(JSON.parse(readFileSync(fixture('mnist-batch16.json'), 'utf8')));
  return { labels: batch.labels, pixels: batch.pixels_0_255 };
}

/** PyTorch's logits of the initial models on the 16 digits. */
export function referenceLogits(model: 'mlp-global-r0' | 'cnn-global-r0'): number[][] {
  const all = z
    .record(z.string(), z.unknown())
    .parse(JSON.parse(readFileSync(fixture('mnist-batch16-logits.json'), 'utf8')));
  return z.array(z.array(z.number())).parse(all[model]);
}

/** The 16 digits as the models' normalized float32 input [16, 1, 28, 28], in float64 for the reference pass. */
export function normalizedInput(): Float64Array {
  const { mean, std } = readme.normalization;
  return Float64Array.from(mnistBatch().pixels.flat(), (p) => (p / 255 - mean) / std);
}

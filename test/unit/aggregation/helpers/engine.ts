import { aggregate } from '../../../../src/aggregation/aggregate';
import { collectBytes, fileSource } from '../../../../src/onnx/model-source';
import { CLIENTS, fixture } from './fixtures';

/** The engine's aggregate of the three fixture clients of `model`, as bytes. */
export async function aggregateFixtures(model: 'mlp' | 'cnn', method = 'fedavg'): Promise<Uint8Array> {
  const result = await aggregate({
    method,
    global: fileSource(fixture(`${model}-global-r0.onnx`)),
    updates: CLIENTS.map((client) => ({
      clientId: client.id,
      sampleSize: client.sampleSize,
      source: fileSource(fixture(`${model}-client-${client.id}.onnx`)),
    })),
  });
  return collectBytes(result.model);
}

/** The largest absolute difference between two equally shaped arrays of numbers. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expectSameLength(a, b);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  }
  return Number.isNaN(max) ? Infinity : max;
}

function expectSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  }
}

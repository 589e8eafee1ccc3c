import { aggregate } from '../../../src/aggregation/aggregate';
import {
  syntheticModel,
  syntheticModelBytes,
  syntheticValue,
  syntheticValueOffset,
} from '../../fixtures/models/synthetic-model';
import { MemoryProbe } from './helpers/memory-probe';

const LAYOUT = { tensors: 8, elements: 1 << 20 };
const MODEL_BYTES = syntheticModelBytes(LAYOUT);
/** 1 MiB chunks, as the blob store's file streams give; every eighth one is sampled (a full GC each). */
const CHUNK_ELEMENTS = 1 << 18;
const CLIENTS = Array.from({ length: 20 }, (_, i) => ({
  id: `client-${String(i).padStart(2, '0')}`,
  seed: i + 1,
  n: 100 + 37 * i,
}));

describe('FedAvg memory', () => {
  it('when 20 updates of a 32 MB model are folded, live memory peaks under three model sizes', async () => {
    const probe = new MemoryProbe();
    // Each update is generated as it is read, in fresh chunks like a file stream's: no update is ever held whole.
    const source = (seed: number) => () =>
      probe.probe(syntheticModel(LAYOUT, seed, CHUNK_ELEMENTS), 4 * CHUNK_ELEMENTS, 8);
    const result = await aggregate({
      method: 'fedavg',
      global: source(0),
      updates: CLIENTS.map((c) => ({ clientId: c.id, sampleSize: c.n, source: source(c.seed) })),
    });
    const total = CLIENTS.reduce((sum, c) => sum + c.n, 0);
    const expected = (t: number, i: number): number =>
      CLIENTS.reduce((s, c) => s + c.n * syntheticValue(c.seed, t, i), 0) / total;
    const spots = [
      [0, 0],
      [3, 12345],
      [7, LAYOUT.elements - 1],
    ] as const;
    const diffs: number[] = [];
    let written = 0;
    // The output is consumed as the blob store would: chunk by chunk, never gathered.
    for await (const chunk of result.model) {
      probe.sample();
      for (const [t, i] of spots) {
        const at = syntheticValueOffset(LAYOUT, t, i) - written;
        if (at >= 0 && at + 4 <= chunk.length) {
          diffs.push(
            Math.abs(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).readFloatLE(at) - expected(t, i)),
          );
        }
      }
      written += chunk.length;
    }
    expect(written).toBe(MODEL_BYTES);
    expect(diffs).toHaveLength(spots.length);
    diffs.forEach((diff) => expect(diff).toBeLessThan(1e-7));
    // The float64 accumulator alone is two model sizes: the probe must see it, or it measures nothing.
    expect(probe.peak).toBeGreaterThan(2 * MODEL_BYTES);
    expect(probe.peak).toBeLessThan(3 * MODEL_BYTES);
  });
});

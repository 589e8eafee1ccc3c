// Run by fedavg-memory.test.ts in a Node process of its own, so no other test's memory (jest runs files in band on
// 2 cores) can blur the measurement. Prints one JSON line: the peak, the model size and the checked differences.
import { aggregate } from '../../../../src/aggregation/aggregate';
import {
  syntheticModel,
  syntheticModelBytes,
  syntheticValue,
  syntheticValueOffset,
} from '../../../fixtures/models/synthetic-model';
import { MemoryProbe } from './memory-probe';

const LAYOUT = { tensors: 8, elements: 1 << 20 };
const MODEL_BYTES = syntheticModelBytes(LAYOUT);
/** 1 MiB chunks, as the blob store's file streams give; every eighth one is sampled (a full GC each). */
const CHUNK_ELEMENTS = 1 << 18;
const CLIENTS = Array.from({ length: 20 }, (_, i) => ({
  id: `client-${String(i).padStart(2, '0')}`,
  seed: i + 1,
  n: 100 + 37 * i,
}));

async function main(): Promise<void> {
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
  process.stdout.write(`${JSON.stringify({ peak: probe.peak, modelBytes: MODEL_BYTES, written, diffs })}\n`);
}

void main();

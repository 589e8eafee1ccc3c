// Run by fedavg-memory.test.ts in a Node process of its own, so no other test's memory (jest runs files in band on
// 2 cores) can blur the measurement. Prints one JSON line: the peak, the model size and the checked differences.
// `stream` (the default) generates each update as it is read; `files` writes them to files first and reads them
// by position, as stored updates are.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate } from '../../../../src/aggregation/aggregate';
import type { ModelSource } from '../../../../src/onnx/model-source';
import { fileSource, withAccess, writeChunksToFile } from '../../../../src/onnx/model-source';
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
  const files = process.argv[2] === 'files' ? await mkdtemp(join(tmpdir(), 'roundhouse-memory-')) : undefined;
  try {
    await measure(files);
  } finally {
    if (files !== undefined) {
      await rm(files, { recursive: true, force: true });
    }
  }
}

async function measure(files: string | undefined): Promise<void> {
  if (files !== undefined) {
    for (const seed of [0, ...CLIENTS.map((c) => c.seed)]) {
      await writeChunksToFile(syntheticModel(LAYOUT, seed, CHUNK_ELEMENTS), join(files, `${seed}.onnx`));
    }
  }
  const probe = new MemoryProbe();
  // Each update is generated as it is read, in fresh chunks like a file stream's: no update is ever held whole.
  const streamed = (seed: number) => () =>
    probe.probe(syntheticModel(LAYOUT, seed, CHUNK_ELEMENTS), 4 * CHUNK_ELEMENTS, 8);
  // Or read from its file by position, a sample every eighth read of a chunk.
  const stored = (seed: number, dir: string): ModelSource => {
    const file = fileSource(join(dir, `${seed}.onnx`));
    let reads = 0;
    return withAccess(file, async () => {
      const access = await file.openAccess();
      return {
        size: access.size,
        readInto: (into, position) => {
          if (into.length >= 4 * 4096 && reads++ % 8 === 0) {
            probe.sample();
          }
          return access.readInto(into, position);
        },
        close: () => access.close(),
      };
    });
  };
  const source = (seed: number): ModelSource => (files === undefined ? streamed(seed) : stored(seed, files));
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

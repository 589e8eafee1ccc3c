import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writer } from 'protobufjs/minimal';
import { aggregate } from '../../../src/aggregation/aggregate';
import type { ClientUpdate } from '../../../src/aggregation/strategies/strategy';
import { bytesSource, collectBytes, memoryAccess } from '../../../src/onnx/model-source';
import type { ModelSource } from '../../../src/onnx/model-source';
import type { RandomAccess } from '../../../src/storage/random-access';
import { scanModel } from '../../../src/models/scan';
import { writeWithValues } from '../../../src/models/write';
import { encodeFloatValues } from '../../../src/onnx/float/encoding';
import type { TensorInfo } from '../../../src/onnx/manifest';
import { MIN_WINDOW_BYTES } from '../../../src/onnx/positional-source';
import { floatDType } from '../../../src/onnx/schema';
import { seededUniform } from '../../../src/seeded-random';
import { readTorchArchive } from '../../../src/torch/archive';
import { buildModel } from '../../fixtures/models/onnx-builder';
import { FIXTURES } from '../../fixtures/onnx-edge-cases';
import type { TensorSpec } from '../../fixtures/models/tensor-builder';
import { DataType } from '../../fixtures/models/tensor-builder';
import { refusal } from './helpers/aggregate-run';

/**
 * Stored updates are indexed and read by position, a chunk of every update at a time; streamed ones are folded one
 * at a time. Both must give the same bits, refuse the same models in the same words, and the positional reads must
 * touch each update once.
 */

/** Every float type with values a walk by position skips (≥ 4 KiB), small and typed ones it reads, and an int64. */
function model(seed: number, rows = 300, extra?: Uint8Array): Uint8Array {
  const uniform = seededUniform(seed);
  const draw = (count: number): number[] => Array.from({ length: count }, () => 2 * uniform() - 1);
  // Multiples of 1/8 below 16 in magnitude: exact in float16 and bfloat16, so the builder needs no rounding.
  const halves = (count: number): number[] => draw(count).map((v) => Math.round(v * 120) / 8);
  const initializers: TensorSpec[] = [
    // 90,000 coordinates: more than one chunk of the fold.
    { name: 'big', dataType: DataType.FLOAT, dims: [rows, 300], values: draw(rows * 300), ...(extra ? { extra } : {}) },
    { name: 'f64', dataType: DataType.DOUBLE, dims: [700], values: draw(700) },
    { name: 'f16', dataType: DataType.FLOAT16, dims: [3000], values: halves(3000) },
    { name: 'bf16', dataType: DataType.BFLOAT16, dims: [3000], values: halves(3000) },
    { name: 'small', dataType: DataType.FLOAT, dims: [3], values: draw(3) },
    { name: 'typed', dataType: DataType.FLOAT, dims: [1500], values: draw(1500), storage: 'typed' },
    { name: 'empty', dataType: DataType.FLOAT, dims: [0], values: [] },
    { name: 'shape', dataType: DataType.INT64, dims: [2], values: [-1, 300] },
  ];
  return buildModel({
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    initializers,
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 4] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 4] }],
  });
}

const GLOBAL = model(1);
const UPDATES = [2, 3, 4, 5, 6].map((seed) => model(seed));
const SAMPLES = [10, 30, 20, 7, 1];

/** The same bytes offered only as a stream: the engine must fold them one at a time. */
function streamed(bytes: Uint8Array): ModelSource {
  const source = bytesSource(bytes, 4099);
  return () => source();
}

/** The same bytes offered by position only, counting what is read; the stream must not be opened. */
function positional(bytes: Uint8Array, reads: number[]): ModelSource {
  const counting = (): RandomAccess => {
    const inner = memoryAccess(bytes);
    return {
      size: inner.size,
      readInto: async (into, position) => {
        const read = await inner.readInto(into, position);
        reads.push(read);
        return read;
      },
      close: () => inner.close(),
    };
  };
  const stream = (): AsyncIterable<Uint8Array> => {
    throw new Error('an update read by position was streamed');
  };
  return Object.assign(stream, { openAccess: () => Promise.resolve(counting()) });
}

function updates(models: readonly Uint8Array[], source: (bytes: Uint8Array, k: number) => ModelSource): ClientUpdate[] {
  return models.map((bytes, k) => ({ clientId: `c${k}`, sampleSize: SAMPLES[k] ?? 1, source: source(bytes, k) }));
}

async function run(method: string, list: ClientUpdate[], params = {}): Promise<Buffer> {
  const result = await aggregate({ method, params, global: bytesSource(GLOBAL), updates: list, chunkSize: 777 });
  return Buffer.from(await collectBytes(result.model));
}

/** Each method, its parameters, and how many passes it makes at most over an update (Krum's selection, then a fold). */
const METHODS: [string, Record<string, number>, number][] = [
  ['FedAvg', {}, 1],
  ['FedAdam', {}, 1],
  ['FedMedian', {}, 1],
  ['FedTrimmedAvg', { beta: 0.2 }, 1],
  ['Krum', { num_malicious_nodes: 1 }, 2],
  ['Bulyan', { num_malicious_nodes: 0 }, 2],
];

describe('aggregation by position', () => {
  it.each(METHODS)(
    'when %s reads stored updates by position, the result equals the streamed fold bit for bit',
    async (method, params, passes) => {
      const reads: number[][] = UPDATES.map(() => []);
      const byPosition = await run(
        method,
        updates(UPDATES, (bytes, k) => positional(bytes, reads[k] ?? [])),
        params,
      );
      const byStream = await run(method, updates(UPDATES, streamed), params);
      expect(byPosition.equals(byStream)).toBe(true);
      expect(byPosition.equals(GLOBAL)).toBe(false);
      // Each pass reads an update once: its structure with the index, its values chunk by chunk. What the index's
      // window reads past each of the 4 skipped tensors' headers is read again (at most one small window each).
      UPDATES.forEach((bytes, k) => {
        const total = (reads[k] ?? []).reduce((sum, n) => sum + n, 0);
        expect(total).toBeGreaterThanOrEqual(bytes.length);
        expect(total).toBeLessThanOrEqual(passes * (bytes.length + 4 * MIN_WINDOW_BYTES));
      });
    },
  );

  it('when one update only streams, every update is folded the streamed way, with the same result', async () => {
    const mixed = updates(UPDATES, (bytes, k) => (k === 3 ? streamed(bytes) : bytesSource(bytes)));
    expect((await run('FedAvg', mixed)).equals(await run('FedAvg', updates(UPDATES, streamed)))).toBe(true);
  });

  const cut = (bytes: Uint8Array, at: number): Uint8Array => bytes.subarray(0, at);
  it.each([
    ['cut inside the values of the first tensor', (bytes: Uint8Array) => cut(bytes, 5000)],
    ['cut inside a tensor header', (bytes: Uint8Array) => cut(bytes, bytes.length - 2000)],
    ['cut at the end of the graph', (bytes: Uint8Array) => cut(bytes, bytes.length - 3)],
    ['of another shape', () => model(9, 299)],
    // Protobuf keeps the last of two raw_data fields, a reader by position would see the first: refused both ways.
    ['holding raw_data twice', () => model(9, 300, Writer.create().uint32(0x4a).bytes(new Uint8Array(8)).finish())],
  ])('when an update is %s, both ways refuse it in the same words, naming the first such client', async (_, damage) => {
    const damaged = UPDATES.map((bytes, k) => (k === 2 || k === 4 ? damage(bytes) : bytes));
    const byPosition = await refusal(
      run(
        'FedAvg',
        updates(damaged, (bytes) => bytesSource(bytes)),
      ),
    );
    const byStream = await refusal(run('FedAvg', updates(damaged, streamed)));
    expect(byPosition).toEqual(byStream);
    expect(byPosition.clientId).toBe('c2');
  });
});

describe('writing a model over a template read by position', () => {
  it('when some float tensors are replaced and others kept, the bytes equal those written over the streamed template', async () => {
    const summary = await scanModel(bytesSource(GLOBAL)());
    // 'big' and 'f16' get new values; 'f64', 'bf16' and the rest keep the template's, read back from its file.
    const replaced = new Set(['big', 'f16']);
    const values = (info: TensorInfo): Uint8Array =>
      encodeFloatValues(
        Array.from({ length: info.elementCount }, (_, i) => (i % 7) / 8),
        floatDType(info.dataType) ?? 'float32',
      );
    const byPosition = await collectBytes(writeWithValues(bytesSource(GLOBAL), summary, replaced, values));
    const byStream = await collectBytes(writeWithValues(streamed(GLOBAL), summary, replaced, values));
    expect(Buffer.from(byPosition).equals(Buffer.from(byStream))).toBe(true);
    const written = await scanModel(bytesSource(byPosition)(), { expected: summary });
    expect(written.manifest).toEqual(summary.manifest);
    expect(Buffer.from(byPosition).equals(Buffer.from(GLOBAL))).toBe(false);
  });
});

describe('PyTorch archives by position', () => {
  const torch = (name: string): Uint8Array => readFileSync(path.join(FIXTURES, 'torch', name));
  const clients = ['a', 'b', 'c'];

  /** FedAvg of state-dict `models` onto the MLP global model, by position and streamed: the same refusal both ways. */
  async function refusedBothWays(models: readonly Uint8Array[]): Promise<Awaited<ReturnType<typeof refusal>>> {
    const global = torch('mlp-global-r0.state.pt');
    const fold = (source: (bytes: Uint8Array) => ModelSource): Promise<unknown> =>
      aggregate({
        method: 'FedAvg',
        global: bytesSource(global),
        updates: models.map((bytes, k) => ({ clientId: `c${k}`, sampleSize: 1, source: source(bytes) })),
      });
    const byPosition = await refusal(fold((bytes) => bytesSource(bytes)));
    expect(byPosition).toEqual(await refusal(fold(streamed)));
    return byPosition;
  }

  it.each(['state', 'jit'])(
    'when %s archives are read by position, FedAvg equals the streamed fold and no archive is held',
    async (kind) => {
      const global = torch(`mlp-global-r0.${kind}.pt`);
      const models = clients.map((c) => torch(`mlp-client-${c}.${kind}.pt`));
      const reads: number[][] = models.map(() => []);
      const list = (source: (bytes: Uint8Array, k: number) => ModelSource): ClientUpdate[] =>
        models.map((bytes, k) => ({ clientId: `c${k}`, sampleSize: 10 * (k + 1), source: source(bytes, k) }));
      const fold = async (updates: ClientUpdate[]): Promise<Buffer> => {
        const result = await aggregate({ method: 'FedAvg', global: bytesSource(global), updates });
        return Buffer.from(await collectBytes(result.model));
      };
      const byPosition = await fold(list((bytes, k) => positional(bytes, reads[k] ?? [])));
      expect(byPosition.equals(await fold(list(streamed)))).toBe(true);
      expect(byPosition.equals(Buffer.from(global))).toBe(false);
      // The zip's end (64 KiB), directory, headers and pickles, every entry once for its CRC-32 and each float
      // tensor's bytes once more, in chunks: no read of a whole archive into memory, no third pass.
      models.forEach((bytes, k) => {
        const list = reads[k] ?? [];
        const total = list.reduce((sum, n) => sum + n, 0);
        expect(total).toBeGreaterThan(bytes.length);
        expect(total).toBeLessThan(2 * bytes.length + 70_000);
        expect(Math.max(...list)).toBeLessThan(bytes.length);
      });
    },
  );

  it('when a storage byte of an archive changed after its upload, both ways refuse it by its CRC-32', async () => {
    const corrupt = Uint8Array.from(torch('mlp-client-b.state.pt'));
    const storage = readTorchArchive(corrupt).entries.find((entry) => /\/data\/\d+$/.test(entry.name));
    const at = (storage?.dataOffset ?? 0) + 5;
    corrupt[at] = (corrupt[at] ?? 0) ^ 0x40;
    const byPosition = await refusedBothWays([torch('mlp-client-a.state.pt'), corrupt]);
    expect(byPosition).toMatchObject({ code: 'torch_zip_crc_mismatch', clientId: 'c1' });
  });

  it('when an archive has another layout, both ways refuse it in the same words', async () => {
    const byPosition = await refusedBothWays([
      torch('mlp-client-a.state.pt'),
      torch('refused-update-wrong-shape.state.pt'),
    ]);
    expect(byPosition).toMatchObject({ code: 'model_manifest_mismatch', clientId: 'c1' });
  });
});

import { aggregate } from '../../../src/aggregation/aggregate';
import { FloatChunkReader } from '../../../src/onnx/float/chunk-reader';
import { scanModel } from '../../../src/models/scan';
import { bytesSource, collectBytes, openSource } from '../../../src/onnx/model-source';
import type { ModelSummary } from '../../../src/onnx/summary';
import type { TensorRecord } from '../../../src/onnx/tensor-record';
import { readFloatValues } from '../../../src/onnx/float/tensor-values';
import { krumDistances } from '../../../src/aggregation/strategies/krum';
import { forEachChunkInLockstep } from '../../../src/aggregation/strategies/lockstep';
import type { AggregationContext } from '../../../src/aggregation/strategies/strategy';
import { buildModel } from '../../fixtures/models/onnx-builder';
import type { ModelSpec } from '../../fixtures/models/onnx-builder';
import { mixedDtypeSpec } from '../../fixtures/models/small-models';
import { DataType } from '../../fixtures/models/tensor-builder';

/** Every float initializer's record of a model, copied out of the scan (the scanner reuses its buffers). */
async function recordsOf(bytes: Uint8Array): Promise<TensorRecord[]> {
  const records: TensorRecord[] = [];
  await scanModel(openSource(bytesSource(bytes)), {
    onTensor: (record, info) => {
      if (info.isFloat) {
        records.push({ ...record, payload: Uint8Array.from(record.payload) });
      }
    },
  });
  return records;
}

/** A record's values read through a chunk reader, `size` values at a time. */
function readInChunks(record: TensorRecord, size: number): number[] {
  const reader = new FloatChunkReader(record);
  const values: number[] = [];
  for (let offset = 0; offset < record.elementCount; offset += size) {
    const chunk = new Float64Array(Math.min(size, record.elementCount - offset));
    reader.read(chunk);
    values.push(...chunk);
  }
  return values;
}

/** Tensors of odd sizes in every float type and storage, values a little different for every client. */
function clientModel(client: number): Uint8Array {
  const values = (count: number, salt: number): number[] =>
    Array.from({ length: count }, (_, j) => (((j * 7 + client * 3 + salt) % 11) - 5) / 4);
  const spec: ModelSpec = {
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    initializers: [
      { name: 'w', dataType: DataType.FLOAT, dims: [5, 3], values: values(15, 1).map((v) => v + client / 1000) },
      { name: 'b', dataType: DataType.FLOAT, dims: [1], values: values(1, 2) },
      { name: 'd', dataType: DataType.DOUBLE, dims: [7], values: values(7, 3).map((v) => v / 3), storage: 'typed' },
      { name: 'h', dataType: DataType.FLOAT16, dims: [4], values: values(4, 4) },
      { name: 'g', dataType: DataType.BFLOAT16, dims: [5], values: values(5, 5), storage: 'typed' },
      { name: 'shape', dataType: DataType.INT64, dims: [2], values: [-1, 4] },
    ],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 4] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 4] }],
  };
  return buildModel(spec);
}

const CLIENTS = Array.from({ length: 7 }, (_, i) => clientModel(i));

async function aggregateBytes(method: string, params: Record<string, unknown>, chunkSize?: number): Promise<Buffer> {
  const result = await aggregate({
    method,
    params,
    global: bytesSource(clientModel(99)),
    updates: CLIENTS.map((bytes, i) => ({ clientId: `c${i}`, sampleSize: i + 1, source: bytesSource(bytes) })),
    ...(chunkSize === undefined ? {} : { chunkSize }),
  });
  return Buffer.from(await collectBytes(result.model));
}

describe('FloatChunkReader', () => {
  it.each(['raw', 'typed'] as const)(
    'when every float type is stored %s, chunks of 1, 3 and 1000 values read what readFloatValues reads',
    async (storage) => {
      for (const record of await recordsOf(buildModel(mixedDtypeSpec(storage)))) {
        const whole = [...readFloatValues(record)];
        for (const size of [1, 3, 1000]) {
          expect(readInChunks(record, size)).toEqual(whole);
        }
      }
    },
  );

  it('when a tensor holds fewer values than its shape, it refuses before reading, as readFloatValues does', async () => {
    const [record] = await recordsOf(
      buildModel({
        ...mixedDtypeSpec('typed'),
        initializers: [{ name: 'f32', dataType: DataType.FLOAT, dims: [5], values: [1, 2, 3, 4], storage: 'typed' }],
      }),
    );
    const tensor = record ?? ({} as TensorRecord);
    expect(() => readFloatValues(tensor)).toThrow('initializer "f32" holds 4 values; its shape [5] needs 5');
    expect(() => new FloatChunkReader(tensor)).toThrow('initializer "f32" holds 4 values; its shape [5] needs 5');
  });
});

describe('robust aggregators in chunks', () => {
  it('when chunks of at most 3 coordinates are asked for, every float tensor comes in order, in such chunks', async () => {
    const global = await scanModel(openSource(bytesSource(clientModel(99))));
    const seen: string[] = [];
    const updates = CLIENTS.slice(0, 2).map((bytes, i) => ({
      clientId: `c${i}`,
      sampleSize: 1,
      source: bytesSource(bytes),
    }));
    await forEachChunkInLockstep(
      global,
      updates,
      (info, offset, chunks) => {
        expect(chunks.map((chunk) => chunk.length)).toEqual([chunks[0]?.length, chunks[0]?.length]);
        seen.push(`${info.name}@${offset}+${chunks[0]?.length}`);
      },
      3,
    );
    expect(seen).toEqual([
      'w@0+3',
      'w@3+3',
      'w@6+3',
      'w@9+3',
      'w@12+3',
      'b@0+1',
      'd@0+3',
      'd@3+3',
      'd@6+1',
      'h@0+3',
      'h@3+1',
      'g@0+3',
      'g@3+2',
    ]);
  });

  it('when Krum distances are summed in chunks of 1, 3 or the default, they are the same bits', async () => {
    const globalSummary: ModelSummary = await scanModel(openSource(bytesSource(clientModel(99))));
    const context = (chunkSize?: number): AggregationContext => ({
      global: bytesSource(clientModel(99)),
      globalSummary,
      updates: CLIENTS.map((bytes, i) => ({ clientId: `c${i}`, sampleSize: 1, source: bytesSource(bytes) })),
      params: {},
      ...(chunkSize === undefined ? {} : { chunkSize }),
    });
    const bits = async (chunkSize?: number): Promise<Buffer[]> =>
      (await krumDistances(context(chunkSize))).map((row) => Buffer.from(row.buffer));
    const whole = await bits();
    expect(whole[0]?.equals(Buffer.alloc(whole[0].length))).toBe(false);
    expect(await bits(1)).toEqual(whole);
    expect(await bits(3)).toEqual(whole);
  });

  it.each([
    ['FedMedian', {}],
    ['FedTrimmedAvg', { beta: 0.2 }],
    ['Krum', { num_malicious_nodes: 1 }],
    ['MultiKrum', { num_malicious_nodes: 1, num_nodes_to_select: 3 }],
    ['Bulyan', { num_malicious_nodes: 1 }],
  ])('when %s runs in chunks of 1, 3 or the default, the model is the same bytes', async (method, params) => {
    const whole = await aggregateBytes(method, params);
    expect(await aggregateBytes(method, params, 1)).toEqual(whole);
    expect(await aggregateBytes(method, params, 3)).toEqual(whole);
  });
});

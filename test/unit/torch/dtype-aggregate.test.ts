import { aggregate } from '../../../src/aggregation/aggregate';
import { checkModel, checkUpdate } from '../../../src/models/checks';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import {
  bfloat16ToNumber,
  float16ToNumber,
  numberToBfloat16,
  numberToFloat16,
} from '../../../src/onnx/float/half-precision';
import { readTorchArchive } from '../../../src/torch/archive';
import { entryBytes } from '../../../src/torch/zip';
import { stateDict, str, tensor } from './pickle-bytes';
import { buildZip } from './zip-bytes';

/**
 * A state dict of every float dtype the engine averages, plus an int64 buffer, as `torch.save` lays it out:
 * `half` float16 [2, 3]; `brain` bfloat16 [4]; `double` float64 [3]; `tail` float32 [2, 2] at offset 2 of a storage of
 * 6 (its first two elements belong to no tensor); `num_batches_tracked` int64, a scalar.
 */
const PICKLE = stateDict(
  [...str('half'), ...tensor('0', [2, 3], [3, 1], 6, { storage: 'HalfStorage' })],
  [...str('brain'), ...tensor('1', [4], [1], 4, { storage: 'BFloat16Storage' })],
  [...str('double'), ...tensor('2', [3], [1], 3, { storage: 'DoubleStorage' })],
  [...str('tail'), ...tensor('3', [2, 2], [2, 1], 6, { storage: 'FloatStorage', offset: 2 })],
  [...str('num_batches_tracked'), ...tensor('4', [], [], 1, { storage: 'LongStorage' })],
);

interface Weights {
  half: number[];
  brain: number[];
  double: number[];
  /** All six elements of storage 3; the tensor `tail` is the last four. */
  tailStorage: number[];
  steps: bigint;
}

function archive(weights: Weights): Uint8Array {
  const halves = (values: number[], encode: (value: number) => number): Uint8Array =>
    new Uint8Array(Uint16Array.from(values, encode).buffer);
  return buildZip([
    { name: 'archive/data.pkl', data: PICKLE },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    { name: 'archive/data/0', data: halves(weights.half, numberToFloat16) },
    { name: 'archive/data/1', data: halves(weights.brain, numberToBfloat16) },
    { name: 'archive/data/2', data: new Uint8Array(Float64Array.from(weights.double).buffer) },
    { name: 'archive/data/3', data: new Uint8Array(Float32Array.from(weights.tailStorage).buffer) },
    { name: 'archive/data/4', data: new Uint8Array(BigInt64Array.of(weights.steps).buffer) },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

/** The storages of an archive, decoded by their dtypes. */
function storages(bytes: Uint8Array): Weights {
  const read = readTorchArchive(bytes, { verifyCrc: true });
  const data = (key: string): Uint8Array => {
    const storage = read.storages.get(key);
    if (storage === undefined) {
      throw new Error(`no storage ${key}`);
    }
    return Uint8Array.from(entryBytes(bytes, storage.entry));
  };
  return {
    half: [...new Uint16Array(data('0').buffer)].map(float16ToNumber),
    brain: [...new Uint16Array(data('1').buffer)].map(bfloat16ToNumber),
    double: [...new Float64Array(data('2').buffer)],
    tailStorage: [...new Float32Array(data('3').buffer)],
    steps: new BigInt64Array(data('4').buffer)[0] ?? -1n,
  };
}

const GLOBAL: Weights = {
  half: [0.5, -1, 2, 0.25, 3, -0.125],
  brain: [1, 2, -4, 8],
  double: [0.1, 0.2, 0.3],
  tailStorage: [42, -42, 1, 2, 3, 4],
  steps: 7n,
};

const CLIENTS: Array<{ id: string; samples: number; weights: Weights }> = [
  {
    id: 'a',
    samples: 3,
    weights: {
      half: [1.5, -0.5, 2.25, 0.75, 3.5, -1],
      brain: [1.5, 2.5, -3, 9],
      double: [0.11, 0.21, 0.31],
      tailStorage: [0, 0, 1.25, 2.5, 3.75, 5],
      steps: 107n,
    },
  },
  {
    id: 'b',
    samples: 1,
    weights: {
      half: [0.125, 1, 1.75, 0.5, 2.5, -0.25],
      brain: [0.5, 3, -5, 7],
      double: [0.09, 0.19, 0.29],
      tailStorage: [9, 9, 0.5, 1.5, 2.5, 4.5],
      steps: 207n,
    },
  },
];

/** The sample-weighted mean of one field, in float64. */
function mean(pick: (weights: Weights) => number[]): number[] {
  const total = CLIENTS.reduce((sum, client) => sum + client.samples, 0);
  const first = pick(CLIENTS[0]?.weights ?? GLOBAL);
  return first.map((_, i) => CLIENTS.reduce((sum, c) => sum + (pick(c.weights)[i] ?? 0) * c.samples, 0) / total);
}

/** Asserts every value is within `relative` of its expectation (the dtype's rounding). */
function expectClose(actual: number[], expected: number[], relative: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    const want = expected[i] ?? Number.NaN;
    expect(Math.abs(value - want)).toBeLessThanOrEqual(Math.abs(want) * relative);
  });
}

describe('aggregating a PyTorch state dict of float16, bfloat16, float64 and float32 tensors and an int64 buffer', () => {
  it('averages each float dtype in its own precision, writes it back at its storage offset and keeps the buffer', async () => {
    const global = archive(GLOBAL);
    expect((await checkModel(bytesSource(global)())).ok).toBe(true);
    const result = await aggregate({
      method: 'FedAvg',
      global: bytesSource(global),
      updates: CLIENTS.map((client) => ({
        clientId: client.id,
        sampleSize: client.samples,
        source: bytesSource(archive(client.weights)),
      })),
    });
    expect(result.summary.manifest.map((info) => [info.name, info.dtype, info.isFloat])).toEqual([
      ['half', 'float16', true],
      ['brain', 'bfloat16', true],
      ['double', 'float64', true],
      ['tail', 'float32', true],
      ['num_batches_tracked', 'int64', false],
    ]);
    const written = storages(await collectBytes(result.model));
    // Each float type rounds the float64 mean once: half to 11 significant bits, bfloat16 to 8.
    expectClose(
      written.half,
      mean((w) => w.half),
      2 ** -11,
    );
    expectClose(
      written.brain,
      mean((w) => w.brain),
      2 ** -8,
    );
    expectClose(
      written.double,
      mean((w) => w.double),
      1e-15,
    );
    expectClose(
      written.tailStorage.slice(2),
      mean((w) => w.tailStorage.slice(2)),
      2 ** -24,
    );
    // The storage's elements outside the tensor, and the integer buffer, are the global model's.
    expect(written.tailStorage.slice(0, 2)).toEqual([42, -42]);
    expect(written.steps).toBe(7n);
    // The result moved away from the global model (a copy would pass the checks above only by accident).
    expect(written.double).not.toEqual(GLOBAL.double);
  });

  it('refuses an update holding NaN, naming the tensor', async () => {
    const global = archive(GLOBAL);
    const bad = archive({ ...GLOBAL, double: [0.1, Number.NaN, 0.3] });
    const check = await checkModel(bytesSource(bad)());
    expect(check.ok).toBe(false);
    expect(check.ok ? undefined : [check.error.code, check.error.tensor]).toEqual(['model_non_finite', 'double']);
    await expect(
      aggregate({
        method: 'FedAvg',
        global: bytesSource(global),
        updates: [{ clientId: 'a', sampleSize: 1, source: bytesSource(bad) }],
      }),
    ).rejects.toMatchObject({ code: 'model_non_finite' });
  });

  it('refuses a float tensor that is not contiguous, saying how to save it', async () => {
    const transposed = stateDict([...str('w'), ...tensor('0', [2, 3], [1, 2], 6)]);
    const bytes = buildZip([
      { name: 'archive/data.pkl', data: transposed },
      { name: 'archive/data/0', data: new Uint8Array(24) },
    ]);
    const check = await checkModel(bytesSource(bytes)());
    expect(check.ok ? undefined : [check.error.code, check.error.message]).toEqual([
      'torch_tensor_invalid',
      'the tensor w is not contiguous (shape [2, 3], strides [1, 2]); save the model after calling .contiguous() on it',
    ]);
  });

  it('refuses float tensors that share storage elements unless they are the same view', async () => {
    const shared = (offset: number): Uint8Array =>
      buildZip([
        {
          name: 'archive/data.pkl',
          data: stateDict(
            [...str('a'), ...tensor('0', [4], [1], 6)],
            [...str('b'), ...tensor('0', [4], [1], 6, { offset })],
          ),
        },
        { name: 'archive/data/0', data: new Uint8Array(24) },
      ]);
    const overlapping = await checkModel(bytesSource(shared(2))());
    expect(overlapping.ok ? undefined : overlapping.error.code).toBe('torch_tensor_invalid');
    // Tied weights (the very same view under two names) are fine: both get the same aggregate.
    expect((await checkModel(bytesSource(shared(0))())).ok).toBe(true);
  });
});

describe('storage keys and shared storages of PyTorch updates', () => {
  const archiveOf = (entries: Array<[string, string]>, storages: Record<string, number[]>): Uint8Array =>
    buildZip([
      {
        name: 'archive/data.pkl',
        data: stateDict(...entries.map(([name, key]) => [...str(name), ...tensor(key, [2], [1], 2)])),
      },
      ...Object.entries(storages).map(([key, values]) => ({
        name: `archive/data/${key}`,
        data: new Uint8Array(Float32Array.from(values).buffer),
      })),
    ]);
  const global = archiveOf(
    [
      ['a', '0'],
      ['b', '1'],
    ],
    { '0': [1, 2], '1': [3, 4] },
  );

  it('accepts an update whose saver numbered the storages otherwise, and reads each tensor from its own', async () => {
    const renumbered = archiveOf(
      [
        ['a', '7'],
        ['b', '3'],
      ],
      { '7': [5, 6], '3': [7, 8] },
    );
    const base = await checkModel(bytesSource(global)());
    if (!base.ok) {
      throw base.error;
    }
    expect((await checkUpdate(bytesSource(renumbered)(), base.summary)).ok).toBe(true);
    const result = await aggregate({
      method: 'FedAvg',
      global: bytesSource(global),
      updates: [{ clientId: 'a', sampleSize: 1, source: bytesSource(renumbered) }],
    });
    const bytes = await collectBytes(result.model);
    const written = readTorchArchive(bytes);
    // The result is the global archive: its storage keys, each holding the update's tensor that lives there.
    expect(written.manifest.map((t) => t.storageKey)).toEqual(['0', '1']);
    const storage = (key: string): number[] => {
      const entry = written.storages.get(key)?.entry;
      return entry === undefined ? [] : [...new Float32Array(Uint8Array.from(entryBytes(bytes, entry)).buffer)];
    };
    expect([storage('0'), storage('1')]).toEqual([
      [5, 6],
      [7, 8],
    ]);
  });

  it('refuses an update that ties weights the global model keeps apart', async () => {
    const tied = archiveOf(
      [
        ['a', '0'],
        ['b', '0'],
      ],
      { '0': [5, 6] },
    );
    const base = await checkModel(bytesSource(global)());
    if (!base.ok) {
      throw base.error;
    }
    const result = await checkUpdate(bytesSource(tied)(), base.summary);
    expect(result.ok ? undefined : [result.error.code, result.error.tensor]).toEqual(['model_manifest_mismatch', 'b']);
  });
});

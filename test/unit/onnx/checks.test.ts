import { readFileSync } from 'node:fs';
import { checkModel, checkUpdate } from '../../../src/models/checks';
import type { CheckResult } from '../../../src/models/checks';
import { bytesSource, fileSource } from '../../../src/onnx/model-source';
import type { ModelSummary } from '../../../src/onnx/summary';
import { buildModel } from '../../fixtures/models/onnx-builder';
import { DataType } from '../../fixtures/models/tensor-builder';
import type { TensorSpec } from '../../fixtures/models/tensor-builder';
import { addModelSpec, mixedDtypeSpec } from '../../fixtures/models/small-models';
import { fixture } from '../aggregation/helpers/fixtures';

const check = (bytes: Uint8Array): Promise<CheckResult> => checkModel(bytesSource(bytes, 4096)());

async function globalSummary(bytes: Uint8Array): Promise<ModelSummary> {
  const result = await check(bytes);
  if (!result.ok) {
    throw result.error;
  }
  return result.summary;
}

function failure(result: CheckResult): { code: string; message: string; tensor?: string; node?: string } {
  if (result.ok) {
    throw new Error('expected the check to fail');
  }
  return {
    code: result.error.code,
    message: result.error.message,
    tensor: result.error.tensor,
    node: result.error.node,
  };
}

const withW = (w: Partial<TensorSpec>): Uint8Array => {
  const spec = addModelSpec();
  const [first, ...rest] = spec.initializers;
  return buildModel({
    ...spec,
    initializers: [{ ...first, name: 'w', dataType: DataType.FLOAT, dims: [4], values: [1, 2, 3, 4], ...w }, ...rest],
  });
};

describe('upload checks of a model', () => {
  it('when a real export is checked, it passes with its summary', async () => {
    const result = await checkModel(fileSource(fixture('cnn-client-a.onnx'))());
    expect(result.ok && result.summary.manifest.length).toBe(8);
  });

  it.each([
    ['float32 NaN', { values: [1, NaN, 3, 4] }, 'NaN at element 1'],
    ['float32 Inf', { values: [1, 2, Infinity, 4] }, 'Infinity at element 2'],
    ['float64 -Inf', { dataType: DataType.DOUBLE, values: [1, 2, 3, -Infinity] }, '-Infinity at element 3'],
  ])('when an initializer holds %s, the error names the tensor and element', async (_, w, text) => {
    const error = failure(await check(withW(w)));
    expect(error).toMatchObject({ code: 'model_non_finite', tensor: 'w' });
    expect(error.message).toContain(text);
  });

  it.each(['entries', 'location'] as const)(
    'when a tensor keeps external data (%s), it is refused and named',
    async (external) => {
      const error = failure(await check(withW({ external })));
      expect(error).toMatchObject({ code: 'model_external_data', tensor: 'w' });
      expect(error.message).toContain(external === 'entries' ? 'weights.bin' : 'external file');
    },
  );

  it.each([1, 30, 1000, 200_000, 407_600, 407_619])(
    'when the file is cut after %i bytes, it is reported truncated',
    async (cut) => {
      const bytes = readFileSync(fixture('mlp-global-r0.onnx')).subarray(0, cut);
      const error = failure(await check(bytes));
      expect(error.code).toBe('model_truncated');
      expect(error.message).toMatch(/^the model is truncated: it ends at byte \d+ inside /);
    },
  );

  it('when the file is cut exactly after the graph, the missing opset_import gives it away', async () => {
    const bytes = readFileSync(fixture('mlp-global-r0.onnx'));
    const error = failure(await check(bytes.subarray(0, bytes.length - 4)));
    expect(error.code).toBe('model_malformed');
    expect(error.message).toContain('no opset_import');
  });

  it('when the bytes are not ONNX at all, the check says so instead of throwing', async () => {
    expect(failure(await check(new Uint8Array(0))).code).toBe('model_malformed');
    const json = failure(await check(readFileSync(fixture('mnist-batch16.json'))));
    expect(['model_malformed', 'model_truncated']).toContain(json.code);
  });
});

describe('upload checks of an update against the global model', () => {
  it('when a client export of the same graph is checked, it passes with the same digest', async () => {
    const global = await checkModel(fileSource(fixture('mlp-global-r0.onnx'))());
    const update = global.ok ? await checkUpdate(fileSource(fixture('mlp-client-c.onnx'))(), global.summary) : global;
    expect(update.ok && global.ok && update.summary.graphDigest === global.summary.graphDigest).toBe(true);
  });

  it('when the graph differs (a Dropout export), the error names the first differing node', async () => {
    const global = await globalSummary(readFileSync(fixture('mlp-global-r0.onnx')));
    const error = failure(await checkUpdate(fileSource(fixture('mlp-mcdropout.onnx'))(), global));
    expect(error).toMatchObject({ code: 'model_graph_mismatch', node: 'node 3 "/4/Gemm" (Gemm)' });
    expect(error.message).toContain(
      'the update has node 3 "/3/Constant" (Constant) where the global model has node 3 "/4/Gemm"',
    );
  });

  it('when one node differs only in its operator, the error names that node', async () => {
    const global = await globalSummary(buildModel(addModelSpec()));
    const error = failure(await checkUpdate(bytesSource(buildModel(addModelSpec({ opType: 'Sub' })))(), global));
    expect(error).toMatchObject({ code: 'model_graph_mismatch', node: 'node 0 "node_0" (Add)' });
  });

  it.each([
    ['a shape', { dims: [2, 2] }, '"w" float32 [2, 2] does not match the global model\'s "w" float32 [4]'],
    ['a dtype', { dataType: DataType.DOUBLE }, '"w" float64 [4] does not match'],
    ['a name', { name: 'weight' }, '"weight" float32 [4] does not match the global model\'s "w" float32 [4]'],
  ])('when %s differs, the manifest mismatch names the tensor', async (_, w, text) => {
    const global = await globalSummary(withW({}));
    const error = failure(await checkUpdate(bytesSource(withW(w))(), global));
    expect(error).toMatchObject({ code: 'model_manifest_mismatch', tensor: 'w' });
    expect(error.message).toContain(text);
  });

  it('when the update has an extra initializer, the mismatch names it', async () => {
    const global = await globalSummary(buildModel(addModelSpec()));
    const extra = { name: 'z', dataType: DataType.FLOAT, dims: [1], values: [0] };
    const error = failure(
      await checkUpdate(bytesSource(buildModel(addModelSpec({ extraInitializers: [extra] })))(), global),
    );
    expect(error).toMatchObject({ code: 'model_manifest_mismatch', tensor: 'z' });
    expect(error.message).toContain('the update has initializer "z" where the global model has graph input "x"');
  });

  it('when a non-float initializer differs, the update is refused naming it', async () => {
    const spec = mixedDtypeSpec('raw');
    const global = await globalSummary(buildModel(spec));
    const changed = spec.initializers.map((t) => (t.name === 'shape' ? { ...t, values: [-1, 783] } : t));
    const error = failure(await checkUpdate(bytesSource(buildModel({ ...spec, initializers: changed }))(), global));
    expect(error).toMatchObject({ code: 'model_initializer_mismatch', tensor: 'shape' });
  });

  it('when an update is refused at its first node, reading stops and its stream is closed', async () => {
    const global = await globalSummary(readFileSync(fixture('mlp-global-r0.onnx')));
    const bytes = readFileSync(fixture('mlp-mcdropout.onnx'));
    let served = 0;
    let closed = false;
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        for (let at = 0; at < bytes.length; at += 1024) {
          served += 1024;
          yield await Promise.resolve(bytes.subarray(at, at + 1024));
        }
      } finally {
        closed = true;
      }
    }
    expect((await checkUpdate(stream(), global)).ok).toBe(false);
    expect(closed).toBe(true);
    expect(served).toBeLessThan(bytes.length / 2);
  });

  it('when the update matches but holds NaN, it is refused as non-finite', async () => {
    const global = await globalSummary(withW({}));
    expect(failure(await checkUpdate(bytesSource(withW({ values: [NaN, 0, 0, 0] }))(), global)).code).toBe(
      'model_non_finite',
    );
  });
});

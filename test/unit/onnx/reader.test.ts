import { readFileSync } from 'node:fs';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { scanOnnxModel as scanModel } from '../../../src/onnx/scan';
import { bytesSource, fileSource } from '../../../src/onnx/model-source';
import { buildModel } from '../../fixtures/models/onnx-builder';
import { addModelSpec, mixedDtypeSpec } from '../../fixtures/models/small-models';
import { fixture, FIXTURE_FACTS } from '../aggregation/helpers/fixtures';
import { decodeReferenceFile } from '../aggregation/helpers/reference-onnx';

describe('ONNX tensor reading', () => {
  it('when a fixture is scanned, its manifest lists every initializer with dtype and shape in graph order', async () => {
    const summary = await scanModel(fileSource(fixture('cnn-global-r0.onnx'))());
    expect(summary.manifest.map((info) => info.name)).toEqual(FIXTURE_FACTS.cnn.state_keys);
    expect(summary.manifest[0]).toMatchObject({
      name: '0.weight',
      dtype: 'float32',
      shape: [32, 1, 3, 3],
      isFloat: true,
    });
    expect(summary.manifest[4]).toMatchObject({ name: '7.weight', shape: [128, 9216], elementCount: 1179648 });
    expect(summary.manifest.reduce((sum, info) => sum + info.elementCount, 0)).toBe(FIXTURE_FACTS.cnn.param_count);
    expect(summary.byteLength).toBe(readFileSync(fixture('cnn-global-r0.onnx')).length);
  });

  it('when a fixture is read, its values equal an independent protobufjs decode of the whole model', async () => {
    const values = await readFloatInitializers(fileSource(fixture('mlp-client-b.onnx'))());
    const reference = decodeReferenceFile(fixture('mlp-client-b.onnx'));
    for (const [name, tensor] of reference) {
      expect(Array.from(values.get(name) ?? [])).toEqual(Array.from(tensor.values));
    }
  });

  it.each([1, 7, 4096])(
    'when the stream arrives in %i-byte chunks, the summary and values are the same',
    async (size) => {
      const bytes = readFileSync(fixture('mlp-global-r0.onnx'));
      const whole = await scanModel(bytesSource(bytes, bytes.length)());
      const chunked = await scanModel(bytesSource(bytes, size)());
      expect(chunked).toEqual(whole);
      const values = await readFloatInitializers(bytesSource(bytes, size)());
      expect(Array.from(values.get('4.bias') ?? [])).toEqual(
        Array.from(decodeReferenceFile(fixture('mlp-global-r0.onnx')).get('4.bias')?.values ?? []),
      );
    },
  );

  it.each(['raw', 'typed'] as const)(
    'when float32, float64, float16 and bfloat16 are stored %s, each reads exactly',
    async (storage) => {
      const values = await readFloatInitializers(bytesSource(buildModel(mixedDtypeSpec(storage)))());
      expect(Array.from(values.get('f32') ?? [])).toEqual(Array.from(Float32Array.from([0.1, -2.5, 3e-8, 1e6])));
      expect(values.get('f64')).toBeInstanceOf(Float64Array);
      expect(Array.from(values.get('f64') ?? [])).toEqual([Math.PI, -1e-300, 2.5]);
      expect(Array.from(values.get('f16') ?? [])).toEqual([0.5, -1.25, 3, 0]);
      expect(Array.from(values.get('bf16') ?? [])).toEqual([0.5, -1.25, 3, 0]);
      expect(values.has('shape')).toBe(false);
    },
  );

  it('when initializer values change, the graph digest stays; when the graph changes, it differs', async () => {
    const digest = async (path: string): Promise<string> => (await scanModel(fileSource(fixture(path))())).graphDigest;
    const global = await digest('mlp-global-r0.onnx');
    expect(await digest('mlp-client-a.onnx')).toBe(global);
    expect(await digest('mlp-client-c.onnx')).toBe(global);
    expect(await digest('mlp-mcdropout.onnx')).not.toBe(global);
    expect(await digest('cnn-global-r0.onnx')).not.toBe(global);
  });

  it('when only documentation differs (producer version, metadata_props), the graph digest stays', async () => {
    const plain = await scanModel(bytesSource(buildModel(addModelSpec()))());
    const documented = await scanModel(
      bytesSource(buildModel({ ...addModelSpec(), producerVersion: '2.99', metadata: { note: 'x' } }))(),
    );
    const otherOp = await scanModel(bytesSource(buildModel(addModelSpec({ opType: 'Mul' })))());
    expect(documented.graphDigest).toBe(plain.graphDigest);
    expect(otherOp.graphDigest).not.toBe(plain.graphDigest);
  });
});

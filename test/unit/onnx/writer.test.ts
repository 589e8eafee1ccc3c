import { readFileSync } from 'node:fs';
import { isAggregationError } from '../../../src/aggregation/errors';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource, collectBytes, fileSource } from '../../../src/onnx/model-source';
import { writeModel } from '../../../src/onnx/writer';
import { buildModel, unknownField } from '../../fixtures/models/onnx-builder';
import { DataType, rawBytes } from '../../fixtures/models/tensor-builder';
import { addModel, mixedDtypeSpec } from '../../fixtures/models/small-models';
import { fixture, normalizedInput, referenceLogits } from '../aggregation/helpers/fixtures';
import { maxAbsDiff } from '../aggregation/helpers/engine';
import { runLogits, runModel } from '../aggregation/helpers/onnx-runtime';
import { mlpForward } from '../aggregation/helpers/reference-math';
import { decodeReference, decodeReferenceFile } from '../aggregation/helpers/reference-onnx';

const NEW_W = [10, 20, 30, 40];
const NEW_B = [-0.5, 0.125, 7, 1e-3];

async function write(template: Uint8Array, values: Record<string, readonly number[]>): Promise<Buffer> {
  return Buffer.from(await collectBytes(writeModel(bytesSource(template, 5), new Map(Object.entries(values)))));
}

describe('writing a model from a template', () => {
  it("when a client's weights are written into the global template, the result is the client's file byte for byte", async () => {
    const values = await readFloatInitializers(fileSource(fixture('mlp-client-a.onnx'))());
    const out = await collectBytes(writeModel(fileSource(fixture('mlp-global-r0.onnx')), values));
    expect(Buffer.from(out).equals(readFileSync(fixture('mlp-client-a.onnx')))).toBe(true);
  });

  it.each(['mlp', 'cnn'] as const)(
    'when the initial %s is rewritten with its own weights, it is unchanged and onnxruntime gives PyTorch logits to 1e-4',
    async (model) => {
      const path = fixture(`${model}-global-r0.onnx`);
      const out = await collectBytes(writeModel(fileSource(path), await readFloatInitializers(fileSource(path)())));
      expect(Buffer.from(out).equals(readFileSync(path))).toBe(true);
      const expected = referenceLogits(`${model}-global-r0`).flat();
      expect(maxAbsDiff((await runLogits(out)).flat(), expected)).toBeLessThan(1e-4);
    },
  );

  it('when the float64 forward pass runs the initial MLP, it matches PyTorch logits (the normalization is right)', () => {
    const weights = new Map(
      [...decodeReferenceFile(fixture('mlp-global-r0.onnx'))].map(([name, t]) => [name, t.values]),
    );
    const logits = mlpForward(weights, normalizedInput(), 16);
    expect(maxAbsDiff(logits.flat(), referenceLogits('mlp-global-r0').flat())).toBeLessThan(1e-4);
  });

  it('when the template carries metadata and fields this library does not know, every byte but the weights is kept', async () => {
    const template = Buffer.from(addModel({ unknownFields: true }));
    const out = await write(template, { w: NEW_W, b: NEW_B });
    const expected = Buffer.from(template);
    for (const [old, next] of [
      [[1, 2, 3, 4], NEW_W],
      [[0.5, 0.25, -1, 8], NEW_B],
    ]) {
      const at = template.indexOf(rawBytes({ dataType: DataType.FLOAT, values: old ?? [] }));
      expect(at).toBeGreaterThan(0);
      expected.set(rawBytes({ dataType: DataType.FLOAT, values: next ?? [] }), at);
    }
    expect(out.equals(expected)).toBe(true);
    for (const marker of [
      unknownField(99, 'a field from ONNX IR 14'),
      unknownField(77, 'graph-level unknown'),
      unknownField(17, 'tensor-meta:w'),
    ]) {
      expect(out.indexOf(marker)).toBeGreaterThan(0);
    }
    const y = await runModel(out, { x: { type: 'float32', dims: [4], data: [1, 1, 1, 1] } });
    expect(y.y).toEqual(Array.from(Float32Array.from(NEW_W.map((w, i) => 1 + w + (NEW_B[i] ?? 0)))));
  });

  it('when a template tensor uses typed fields, only that tensor is rewritten as raw_data and the lengths are fixed', async () => {
    const template = Buffer.from(addModel({ storage: 'typed', unknownFields: true }));
    const out = await write(template, { w: NEW_W });
    const decoded = decodeReference(out);
    expect(Array.from(decoded.get('w')?.values ?? [])).toEqual(NEW_W);
    expect(Array.from(decoded.get('b')?.values ?? [])).toEqual(Array.from(Float32Array.from([0.5, 0.25, -1, 8])));
    const wStart = template.indexOf(Buffer.from('tensor-meta:w'));
    expect(out.subarray(0, 40).equals(template.subarray(0, 40))).toBe(true);
    expect(out.indexOf(unknownField(17, 'tensor-meta:w'))).toBeGreaterThan(0);
    expect(out.subarray(out.indexOf(Buffer.from('tensor-meta:w')) + 13).equals(template.subarray(wStart + 13))).toBe(
      true,
    );
    const y = await runModel(out, { x: { type: 'float32', dims: [4], data: [0, 0, 0, 0] } });
    expect(y.y).toEqual(Array.from(Float32Array.from(NEW_W.map((w, i) => w + ([0.5, 0.25, -1, 8][i] ?? NaN)))));
  });

  it.each(['raw', 'typed'] as const)(
    'when %s tensors of every float type get new values, they read back exactly',
    async (storage) => {
      const template = buildModel(mixedDtypeSpec(storage));
      const next = (await readFloatInitializers(bytesSource(buildModel(mixedDtypeSpec('raw', 2)))())).entries();
      const out = await write(template, Object.fromEntries([...next].map(([name, v]) => [name, Array.from(v)])));
      const back = await readFloatInitializers(bytesSource(out)());
      expect(Array.from(back.get('f16') ?? [])).toEqual([1, -2.5, 6, 0]);
      expect(Array.from(back.get('bf16') ?? [])).toEqual([1, -2.5, 6, 0]);
      expect(Array.from(back.get('f64') ?? [])).toEqual([2 * Math.PI, -2e-300, 5]);
      expect(Array.from(back.get('f32') ?? [])).toEqual(Array.from(Float32Array.from([0.2, -5, 6e-8, 2e6])));
      expect(out.indexOf(Buffer.from(buildModel(mixedDtypeSpec(storage))).subarray(-60))).toBeGreaterThan(0);
    },
  );

  it('when values name a tensor the template lacks or one that is not a float, writing is refused', async () => {
    const template = buildModel(mixedDtypeSpec('raw'));
    for (const name of ['nope', 'shape']) {
      const error: unknown = await write(template, { [name]: [1, 2] }).catch((e: unknown) => e);
      expect(isAggregationError(error) && error.code).toBe('model_values_invalid');
      expect(String(error)).toContain(name);
    }
  });
});

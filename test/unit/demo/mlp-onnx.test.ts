import { isAggregationError } from '../../../src/aggregation/errors';
import { copyWeights, MLP_TENSORS, readMlpWeights, writeMlpUpdate } from '../../../src/demo/mlp';
import { checkModel, checkUpdate } from '../../../src/models/checks';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource } from '../../../src/onnx/model-source';
import { seededNormal } from '../../../src/seeded-random';
import { fixtureBytes } from './helpers/shards';

describe('the demo MLP’s weights in and out of ONNX', () => {
  const global = fixtureBytes('mlp-global-r0.onnx');

  it('when read, the weights are the model’s four float32 initializers, widened exactly', async () => {
    const weights = await readMlpWeights(global);
    const initializers = await readFloatInitializers(bytesSource(global)());
    for (const { key, name, shape } of MLP_TENSORS) {
      const expected = initializers.get(name);
      expect(weights[key]).toHaveLength(shape.reduce((a, b) => a * b, 1));
      expect(Array.from(weights[key])).toEqual(Array.from(expected ?? []));
    }
  });

  it('when new weights are written into the global model, reading the update gives them back rounded to float32, and it passes the update check', async () => {
    const weights = copyWeights(await readMlpWeights(global));
    const normal = seededNormal(9);
    for (const { key } of MLP_TENSORS) {
      const values = weights[key];
      for (let i = 0; i < values.length; i++) {
        values[i] = (values[i] ?? 0) + 0.01 * normal();
      }
    }
    const update = await writeMlpUpdate(global, weights);
    expect(update.length).toBe(global.length);
    const back = await readMlpWeights(update);
    for (const { key } of MLP_TENSORS) {
      expect(Array.from(back[key])).toEqual(Array.from(Float32Array.from(weights[key])));
    }
    const summary = await checkModel(bytesSource(global)());
    if (!summary.ok) {
      throw summary.error;
    }
    const checked = await checkUpdate(bytesSource(update)(), summary.summary);
    expect(checked.ok ? 'ok' : checked.error.message).toBe('ok');
  });

  it('when client a’s weights are written into the global model, the result is PyTorch’s client a file byte for byte', async () => {
    const update = await writeMlpUpdate(global, await readMlpWeights(fixtureBytes('mlp-client-a.onnx')));
    expect(Buffer.from(update).equals(fixtureBytes('mlp-client-a.onnx'))).toBe(true);
  });

  it('when the model is not the demo MLP (the CNN fixture), reading it is refused by tensor name and shape', async () => {
    const refused = await readMlpWeights(fixtureBytes('cnn-global-r0.onnx')).catch((error: unknown) => error);
    expect(isAggregationError(refused) && refused.code).toBe('model_manifest_mismatch');
    expect(isAggregationError(refused) && refused.message).toContain('"0.weight" float32 [32, 1, 3, 3]');
  });
});

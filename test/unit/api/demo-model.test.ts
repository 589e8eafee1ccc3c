import { computeModelStats } from '../../../src/api/use-cases/model-stats';
import { demoModel } from '../../../src/api/use-cases/demo-model';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource } from '../../../src/onnx/model-source';

describe('demoModel', () => {
  it('when built twice, gives the same bytes (one blob), an MNIST-shaped input and PyTorch-named finite weights', async () => {
    const bytes = demoModel();
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(demoModel()))).toBe(0);
    const stats = await computeModelStats(bytesSource(bytes)(), [null, 1, 28, 28]);
    expect(stats.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 1, 28, 28] }]);
    expect(stats.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['N', 10] }]);
    expect(stats.summary_list.map(({ name, shape }) => `${name} ${shape.join('x')}`)).toEqual([
      'fc1.weight 32x784',
      'fc1.bias 32',
      'fc2.weight 10x32',
      'fc2.bias 10',
    ]);
    const fc1 = (await readFloatInitializers(bytesSource(bytes)())).get('fc1.weight') ?? [];
    const bound = 1 / Math.sqrt(784);
    expect(Array.from(fc1).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(new Set(Array.from(fc1)).size).toBeGreaterThan(20_000);
  });
});

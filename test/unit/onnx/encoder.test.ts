import { computeModelStats } from '../../../src/api/use-cases/model-stats';
import { checkModel } from '../../../src/models/checks';
import { encodeModel, type ModelSpec } from '../../../src/onnx/encoder';
import { indexGraph } from '../../../src/onnx/graph-index';
import { readFloatInitializers } from '../../../src/onnx/initializers';
import { bytesSource } from '../../../src/onnx/model-source';

/** y = x · wᵀ + b over a free batch: one Gemm with an INT attribute. */
const GEMM: ModelSpec = {
  producerName: 'test',
  graphName: 'gemm',
  opset: 17,
  nodes: [{ opType: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['y'], attributes: { transB: 1 } }],
  initializers: [
    { name: 'w', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] },
    { name: 'b', dims: [2], values: [0.5, -0.25] },
  ],
  inputs: [{ name: 'x', shape: ['N', 3] }],
  outputs: [{ name: 'y', shape: ['N', 2] }],
};

describe('encodeModel', () => {
  it('when a model is encoded, the upload check accepts it and reads back its initializers, nodes and values', async () => {
    const bytes = encodeModel(GEMM);
    const result = await checkModel(bytesSource(bytes)());
    expect(result.ok && result.summary.manifest.map(({ name, dtype, shape }) => ({ name, dtype, shape }))).toEqual([
      { name: 'w', dtype: 'float32', shape: [2, 3] },
      { name: 'b', dtype: 'float32', shape: [2] },
    ]);
    const values = await readFloatInitializers(bytesSource(bytes)());
    expect(Array.from(values.get('w') ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(values.get('b') ?? [])).toEqual([0.5, -0.25]);
    const graph = indexGraph(bytes);
    expect(graph.opset).toBe(17);
    expect(graph.nodes.map(({ opType, inputs, outputs }) => ({ opType, inputs, outputs }))).toEqual([
      { opType: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'] },
    ]);
    const stats = await computeModelStats(bytesSource(bytes)(), null);
    expect(stats.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['N', 3] }]);
    expect(stats.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['N', 2] }]);
  });
});

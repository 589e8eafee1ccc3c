import { encodeModel, type InitializerSpec } from '../../onnx/encoder';
import { seededUniform } from '../../seeded-random';

/** The demo model's `input_shape`: a batch of 28×28 grey images, as MNIST's. */
export const DEMO_INPUT_SHAPE: Array<number | null> = [null, 1, 28, 28];

const PIXELS = 28 * 28;
const HIDDEN = 32;
const CLASSES = 10;
/** Fixed, so every demo model has the same bytes and the blob store keeps one copy. */
const SEED = 37;

/**
 * A small untrained MNIST-shaped classifier as ONNX: `input` [N, 1, 28, 28] → Flatten → Linear(784, 32) → ReLU →
 * Linear(32, 10) → `logits` [N, 10]. Layer names and layouts are PyTorch's (`fc1.weight` is [out, in], Gemm with
 * transB), so a client can map them to a `state_dict`; weights are drawn as PyTorch's default init does, uniform in
 * ±1/√fan_in.
 */
export function demoModel(): Uint8Array {
  const uniform = seededUniform(SEED);
  const layer = (name: string, fanIn: number, fanOut: number): InitializerSpec[] => {
    const bound = 1 / Math.sqrt(fanIn);
    const draw = (count: number) => Float32Array.from({ length: count }, () => (2 * uniform() - 1) * bound);
    return [
      { name: `${name}.weight`, dims: [fanOut, fanIn], values: draw(fanOut * fanIn) },
      { name: `${name}.bias`, dims: [fanOut], values: draw(fanOut) },
    ];
  };
  return encodeModel({
    producerName: 'roundhouse',
    graphName: 'demo_mnist_mlp',
    opset: 17,
    nodes: [
      { opType: 'Flatten', name: 'flatten', inputs: ['input'], outputs: ['flat'], attributes: { axis: 1 } },
      {
        opType: 'Gemm',
        name: 'fc1',
        inputs: ['flat', 'fc1.weight', 'fc1.bias'],
        outputs: ['h'],
        attributes: { transB: 1 },
      },
      { opType: 'Relu', name: 'relu', inputs: ['h'], outputs: ['a'] },
      {
        opType: 'Gemm',
        name: 'fc2',
        inputs: ['a', 'fc2.weight', 'fc2.bias'],
        outputs: ['logits'],
        attributes: { transB: 1 },
      },
    ],
    initializers: [...layer('fc1', PIXELS, HIDDEN), ...layer('fc2', HIDDEN, CLASSES)],
    inputs: [{ name: 'input', shape: ['N', 1, 28, 28] }],
    outputs: [{ name: 'logits', shape: ['N', CLASSES] }],
  });
}

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel, type InitializerSpec } from '../../src/onnx/encoder';
import { seededUniform } from '../../src/seeded-random';

/** Flattened 32×32 inputs and 10 classes around `hidden`-wide layers. */
const INPUTS = 1024;
const CLASSES = 10;

/**
 * The MLP of about `params` float32 parameters: Linear(1024, h) → ReLU → Linear(h, h) → ReLU → Linear(h, h) → ReLU
 * → Linear(h, 10), PyTorch's names and layouts (Gemm with transB), h chosen so that 2h² + 1037h + 10 ≈ `params`.
 */
export function hiddenWidth(params: number): number {
  const a = 2;
  const b = INPUTS + 1 + 2 + CLASSES;
  const c = CLASSES - params;
  return Math.max(1, Math.round((-b + Math.sqrt(b * b - 4 * a * c)) / (2 * a)));
}

/** The layers of the MLP for `hidden`: name, fan in, fan out. */
function layers(hidden: number): [string, number, number][] {
  return [
    ['fc1', INPUTS, hidden],
    ['fc2', hidden, hidden],
    ['fc3', hidden, hidden],
    ['fc4', hidden, CLASSES],
  ];
}

/** The exact parameter count of the MLP of width `hidden`. */
export function parameterCount(hidden: number): number {
  return layers(hidden).reduce((sum, [, fanIn, fanOut]) => sum + fanOut * fanIn + fanOut, 0);
}

/**
 * One model's bytes from the repo's ONNX encoder, a real graph (Flatten, Gemm, Relu) whose weights are drawn from
 * `seed` uniform in ±1/√fan_in, as PyTorch initialises a Linear layer.
 */
export function mlpModel(hidden: number, seed: number): Uint8Array {
  const uniform = seededUniform(seed);
  const initializers: InitializerSpec[] = [];
  const nodes: Parameters<typeof encodeModel>[0]['nodes'][number][] = [
    { opType: 'Flatten', name: 'flatten', inputs: ['input'], outputs: ['a0'], attributes: { axis: 1 } },
  ];
  const all = layers(hidden);
  for (const [index, [name, fanIn, fanOut]] of all.entries()) {
    const bound = 1 / Math.sqrt(fanIn);
    const draw = (count: number): Float32Array => {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        values[i] = (2 * uniform() - 1) * bound;
      }
      return values;
    };
    initializers.push(
      { name: `${name}.weight`, dims: [fanOut, fanIn], values: draw(fanOut * fanIn) },
      { name: `${name}.bias`, dims: [fanOut], values: draw(fanOut) },
    );
    const last = index === all.length - 1;
    const output = last ? 'logits' : `h${index + 1}`;
    nodes.push({
      opType: 'Gemm',
      name,
      inputs: [`a${index}`, `${name}.weight`, `${name}.bias`],
      outputs: [output],
      attributes: { transB: 1 },
    });
    if (!last) {
      nodes.push({ opType: 'Relu', name: `relu${index + 1}`, inputs: [output], outputs: [`a${index + 1}`] });
    }
  }
  return encodeModel({
    producerName: 'roundhouse-bench',
    graphName: 'bench_compare_mlp',
    opset: 17,
    nodes,
    initializers,
    inputs: [{ name: 'input', shape: ['N', 1, 32, 32] }],
    outputs: [{ name: 'logits', shape: ['N', CLASSES] }],
  });
}

/** The files of one comparison: the global model, and each update with its sample size. */
export interface CompareData {
  readonly global: string;
  readonly updates: readonly { readonly path: string; readonly samples: number }[];
  readonly modelBytes: number;
  readonly params: number;
}

/**
 * Writes the global model (seed 0) and `count` updates (seeds 1..count, so every file's values differ) into `dir`,
 * one model in memory at a time, with distinct sample sizes in [100, 5000) drawn from a fixed seed.
 */
export async function writeCompareData(dir: string, params: number, count: number): Promise<CompareData> {
  const hidden = hiddenWidth(params);
  const global = join(dir, 'global.onnx');
  const globalBytes = mlpModel(hidden, 0);
  await writeFile(global, globalBytes);
  const draw = seededUniform(2024);
  const sizes = new Set<number>();
  while (sizes.size < count) {
    sizes.add(100 + Math.floor(draw() * 4900));
  }
  const updates: { path: string; samples: number }[] = [];
  for (const [i, samples] of [...sizes].entries()) {
    const path = join(dir, `u${i}.onnx`);
    await writeFile(path, mlpModel(hidden, i + 1));
    updates.push({ path, samples });
  }
  return { global, updates, modelBytes: globalBytes.length, params: parameterCount(hidden) };
}

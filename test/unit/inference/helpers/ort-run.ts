import * as ort from 'onnxruntime-node';
import { normalizedInput } from '../../aggregation/helpers/fixtures';

/** Session options of these tests: one thread (2 shared cores); MC dropout also turns graph optimization off. */
export function sessionOptions(extra: ort.InferenceSession.SessionOptions = {}): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: 1, logSeverityLevel: 3, ...extra };
}

/** The 16 fixture digits as the models' input tensor [16, 1, 28, 28]. */
export function digitsTensor(): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.from(normalizedInput()), [16, 1, 28, 28]);
}

/** Runs a session on the 16 digits and returns its first output's values (names from the session's metadata). */
export async function runDigits(session: ort.InferenceSession): Promise<Float32Array> {
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  if (input === undefined || output === undefined) {
    throw new Error('the model has no input or no output');
  }
  const result = await session.run({ [input]: digitsTensor() });
  const data = result[output]?.data;
  if (!(data instanceof Float32Array)) {
    throw new Error(`output ${output} is not float32`);
  }
  return data.slice();
}

/** Creates a session over model bytes, runs it `runs` times on the digits and releases it. */
export async function runModelBytes(
  model: Uint8Array,
  runs = 1,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(model, sessionOptions(options));
  try {
    const outputs: Float32Array[] = [];
    for (let i = 0; i < runs; i++) {
      outputs.push(await runDigits(session));
    }
    return outputs;
  } finally {
    await session.release();
  }
}

/** The largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  }
  return max;
}

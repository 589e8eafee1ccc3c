import type { TensorInfo } from './manifest';
import { ModelScanner } from './scan';
import { walkModel } from './reader';
import type { FloatValues } from './float/tensor-values';
import { readFloatValues } from './float/tensor-values';

/** One initializer with its values (float types only; other types carry none). */
export interface InitializerValues {
  readonly info: TensorInfo;
  readonly values?: FloatValues;
}

/** Yields a model's initializers one at a time, in graph order, decoding only the one at hand. */
export async function* iterateInitializers(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<InitializerValues> {
  const scanner = new ModelScanner();
  for await (const event of walkModel(chunks)) {
    const tensor = scanner.accept(event);
    if (tensor !== undefined) {
      yield { info: tensor.info, values: tensor.info.isFloat ? readFloatValues(tensor.record) : undefined };
    }
  }
  scanner.finish();
}

/** Every float initializer's values by name (small models, tests; the engine itself streams). */
export async function readFloatInitializers(chunks: AsyncIterable<Uint8Array>): Promise<Map<string, FloatValues>> {
  const out = new Map<string, FloatValues>();
  for await (const { info, values } of iterateInitializers(chunks)) {
    if (values !== undefined) {
      out.set(info.name, values);
    }
  }
  return out;
}

import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

/** The typed-array constructors the sandbox takes from the realm that loads native addons. */
const SHARED = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/**
 * jest's node environment with the typed-array constructors of Node's own realm. onnxruntime-node's binding returns
 * output arrays made there, and onnxruntime-common checks them with `instanceof Float32Array` inside jest's sandbox,
 * which fails across realms (jestjs/jest#2549). Sharing the constructors makes both sides agree, so tests can run
 * sessions in-process. Opt in per file with the docblock
 * `@jest-environment ./test/support/onnx-runtime-environment.ts`.
 */
export default class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    for (const name of SHARED) {
      this.global[name] = globalThis[name] as never;
    }
  }
}

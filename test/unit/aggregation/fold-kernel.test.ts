import { foldKernel } from '../../../src/aggregation/kernels/fold-wasm';
import { seededUniform } from '../../../src/seeded-random';

/** The JavaScript loop the kernel replaces: sum[i] = sum[i] + w · x[i] in float64. */
function reference(sum: Float64Array, x: Float32Array | Float64Array, weight: number): void {
  for (let i = 0; i < x.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (x[i] ?? 0);
  }
}

describe('the WebAssembly SIMD fold kernel', () => {
  const kernel = foldKernel(1 << 20);
  if (kernel === undefined) {
    throw new Error('this Node has no WebAssembly SIMD: the fold would run in JavaScript');
  }
  const { buffer } = kernel.memory;

  it.each([0, 1, 3, 4, 5, 1023, 4099])(
    'when %i values of float32 and float64 are folded, every sum equals the JavaScript loop bit for bit',
    (count) => {
      const uniform = seededUniform(count + 1);
      const sum = new Float64Array(buffer, 0, count);
      const x32 = new Float32Array(buffer, 8 * count + 16, count);
      const x64 = new Float64Array(buffer, 16 * count + 32, count);
      const expected = new Float64Array(count);
      // Ordinary values, and those where rounding and signs bite: subnormals, -0, huge magnitudes.
      const special = [-0, 1e-45, -3e-39, 3.4e38, -1.7e308 / 2, 1 / 3];
      for (let i = 0; i < count; i++) {
        x32[i] = special[(i + 3) % 17] ?? 2 * uniform() - 1;
        x64[i] = special[(i + 5) % 13] ?? 2 * uniform() - 1;
      }
      sum.fill(0);
      for (const weight of [0.1, 1 / 7, 0.75]) {
        kernel.fold32(sum.byteOffset, x32.byteOffset, count, weight);
        reference(expected, x32, weight);
        kernel.fold64(sum.byteOffset, x64.byteOffset, count, weight);
        reference(expected, x64, weight);
      }
      const differing = Array.from(expected).filter((value, i) => !Object.is(value, sum[i]));
      expect(differing).toEqual([]);
      if (count > 0) {
        expect(sum.some((value) => value !== 0)).toBe(true);
      }
    },
  );

  it('when folding, it touches the sums and values it is given and no byte beyond them', () => {
    const bytes = new Uint8Array(buffer, 0, 4096);
    bytes.fill(0xa5);
    const sum = new Float64Array(buffer, 64, 5);
    const x = new Float32Array(buffer, 1024, 5);
    sum.fill(1);
    x.fill(2);
    kernel.fold32(sum.byteOffset, x.byteOffset, 5, 0.5);
    expect(Array.from(sum)).toEqual([2, 2, 2, 2, 2]);
    expect(bytes.subarray(0, 64).every((b) => b === 0xa5)).toBe(true);
    expect(bytes.subarray(64 + 40, 1024).every((b) => b === 0xa5)).toBe(true);
    expect(bytes.subarray(1024 + 20).every((b) => b === 0xa5)).toBe(true);
  });
});

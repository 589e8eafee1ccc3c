import { floatKernels, kernelsFor } from '../../../src/kernels/float-kernels';
import { findNonFinite, narrowInPlace } from '../../../src/onnx/float/encoding';
import { seededUniform } from '../../../src/seeded-random';

/** The JavaScript loop the fold kernels replace: sum[i] = sum[i] + w · x[i] in float64. */
function reference(sum: Float64Array, x: Float32Array | Float64Array, weight: number): void {
  for (let i = 0; i < x.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (x[i] ?? 0);
  }
}

const COUNTS = [0, 1, 3, 4, 5, 1023, 4099];
// Ordinary values, and those where rounding and signs bite: subnormals, -0, huge magnitudes.
const SPECIAL = [-0, 1e-45, -3e-39, 3.4e38, -1.7e308 / 2, 1 / 3, 3.4028235677973366e38, 1.0000000596046448];

describe('the WebAssembly SIMD float kernels', () => {
  const kernels = floatKernels(1 << 20);
  if (kernels === undefined) {
    throw new Error('this Node has no WebAssembly SIMD: the aggregation would run in JavaScript');
  }
  const { buffer } = kernels.memory;

  it.each(COUNTS)(
    'when %i float32 and float64 values are folded, every sum equals the JavaScript loop bit for bit',
    (count) => {
      const uniform = seededUniform(count + 1);
      const sum = new Float64Array(buffer, 0, count);
      const x32 = new Float32Array(buffer, 8 * count + 16, count);
      const x64 = new Float64Array(buffer, 16 * count + 32, count);
      const expected = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        x32[i] = SPECIAL[(i + 3) % 17] ?? 2 * uniform() - 1;
        x64[i] = SPECIAL[(i + 5) % 13] ?? 2 * uniform() - 1;
      }
      sum.fill(0);
      for (const weight of [0.1, 1 / 7, 0.75]) {
        kernels.fold32(sum.byteOffset, x32.byteOffset, count, weight);
        reference(expected, x32, weight);
        kernels.fold64(sum.byteOffset, x64.byteOffset, count, weight);
        reference(expected, x64, weight);
      }
      expect(Array.from(expected).filter((value, i) => !Object.is(value, sum[i]))).toEqual([]);
      expect(count === 0 || sum.some((value) => value !== 0)).toBe(true);
    },
  );

  it('when folding, it touches the sums and values it is given and no byte beyond them', () => {
    const bytes = new Uint8Array(buffer, 0, 4096);
    bytes.fill(0xa5);
    const sum = new Float64Array(buffer, 64, 5);
    const x = new Float32Array(buffer, 1024, 5);
    sum.fill(1);
    x.fill(2);
    kernels.fold32(sum.byteOffset, x.byteOffset, 5, 0.5);
    expect(Array.from(sum)).toEqual([2, 2, 2, 2, 2]);
    expect(bytes.subarray(0, 64).every((b) => b === 0xa5)).toBe(true);
    expect(bytes.subarray(64 + 40, 1024).every((b) => b === 0xa5)).toBe(true);
    expect(bytes.subarray(1024 + 20).every((b) => b === 0xa5)).toBe(true);
  });

  it.each(COUNTS)(
    'when %i float64 values in its memory are narrowed in place, they round as a Float32Array does',
    (count) => {
      const uniform = seededUniform(count + 7);
      const values = new Float64Array(buffer, 128, count);
      for (let i = 0; i < count; i++) {
        values[i] = SPECIAL[i % 11] ?? (2 * uniform() - 1) * 10 ** Math.floor(uniform() * 20 - 10);
      }
      const expected = Float32Array.from(values);
      expect(kernelsFor(values)).toBe(kernels);
      const narrowed = new Float32Array(narrowInPlace(values, 'float32').slice().buffer);
      expect(Array.from(narrowed).filter((value, i) => !Object.is(value, expected[i]))).toEqual([]);
    },
  );

  it.each([
    [NaN, 0],
    [Infinity, 1],
    [-Infinity, 4],
    [NaN, 1030],
    [Infinity, 1031],
  ])('when a %s sits at index %i among finite values in its memory, findNonFinite names that index', (bad, index) => {
    const values = new Float64Array(buffer, 256, 1033);
    values.fill(1e308);
    expect(findNonFinite(values)).toBe(-1);
    values[index] = bad;
    values[1032] = NaN;
    expect(findNonFinite(values)).toBe(index);
    expect(findNonFinite(Float64Array.from(values))).toBe(index);
  });

  it.each([
    [NaN, 0],
    [-Infinity, 2],
    [Infinity, 1031],
  ])('when a %s sits at index %i of float32 values or a plain list, findNonFinite names that index', (bad, index) => {
    // The largest float32, the smallest subnormal and -0 are finite: only NaN and the infinities count.
    const values = Float32Array.from({ length: 1033 }, (_, k) => [3.4028234663852886e38, 1e-45, -0, -1.5][k % 4] ?? 0);
    expect(findNonFinite(values)).toBe(-1);
    values[index] = bad;
    values[1032] = NaN;
    expect(findNonFinite(values)).toBe(index);
    expect(findNonFinite(values.subarray(1))).toBe(index === 0 ? 1031 : index - 1);
    expect(findNonFinite(Array.from(values))).toBe(index);
  });
});

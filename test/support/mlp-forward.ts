/** The MLP fixture's forward pass in float64, written in the tests (independent of onnxruntime and the engine). */

/** Flatten → Gemm(1.weight, 1.bias, transB) → Relu → Gemm(4.weight, 4.bias, transB), in float64. */
export function mlpForward(
  weights: ReadonlyMap<string, ArrayLike<number>>,
  input: Float64Array,
  batch: number,
): Float64Array {
  const hidden = gemm(input, batch, 784, weight(weights, '1.weight'), weight(weights, '1.bias'), 128).map((x) =>
    Math.max(x, 0),
  );
  return gemm(hidden, batch, 128, weight(weights, '4.weight'), weight(weights, '4.bias'), 10);
}

/** x [n, k] · Wᵀ (W [m, k]) + b [m]. */
function gemm(x: Float64Array, n: number, k: number, w: ArrayLike<number>, b: ArrayLike<number>, m: number) {
  const out = new Float64Array(n * m);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < m; col++) {
      let sum = b[col] ?? 0;
      for (let i = 0; i < k; i++) {
        sum += (x[row * k + i] ?? 0) * (w[col * k + i] ?? 0);
      }
      out[row * m + col] = sum;
    }
  }
  return out;
}

function weight(weights: ReadonlyMap<string, ArrayLike<number>>, name: string): ArrayLike<number> {
  const values = weights.get(name);
  if (values === undefined) {
    throw new Error(`the model has no initializer ${name}`);
  }
  return values;
}

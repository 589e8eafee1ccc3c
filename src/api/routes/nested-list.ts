/**
 * The values of a row-major array of shape `dims`, starting at `offset` in `data`, as nested lists (a bare number for
 * no dimensions); values JSON cannot hold (NaN, ±Infinity) become null.
 */
export function nestedList(dims: readonly number[], data: ArrayLike<number>, offset = 0): unknown {
  if (dims.length === 0) {
    return leaf(data[offset]);
  }
  // Strides once, and plain loops: this builds every inference answer.
  const strides = new Array<number>(dims.length).fill(1);
  for (let d = dims.length - 2; d >= 0; d--) {
    strides[d] = (strides[d + 1] ?? 1) * (dims[d + 1] ?? 0);
  }
  const build = (depth: number, at: number): unknown[] => {
    const length = dims[depth] ?? 0;
    const list = new Array<unknown>(length);
    if (depth === dims.length - 1) {
      for (let i = 0; i < length; i++) {
        list[i] = leaf(data[at + i]);
      }
      return list;
    }
    const stride = strides[depth] ?? 0;
    for (let i = 0; i < length; i++) {
      list[i] = build(depth + 1, at + i * stride);
    }
    return list;
  };
  return build(0, offset);
}

function leaf(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

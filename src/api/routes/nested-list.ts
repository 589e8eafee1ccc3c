/**
 * The values of a row-major array of shape `dims`, starting at `offset` in `data`, as nested lists (a bare number for
 * no dimensions); values JSON cannot hold (NaN, ±Infinity) become null.
 */
export function nestedList(dims: readonly number[], data: ArrayLike<number>, offset = 0): unknown {
  const build = (depth: number, at: number): unknown => {
    if (depth === dims.length) {
      const value = data[at] ?? NaN;
      return Number.isFinite(value) ? value : null;
    }
    const stride = dims.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[depth] ?? 0 }, (_, i) => build(depth + 1, at + i * stride));
  };
  return build(0, offset);
}

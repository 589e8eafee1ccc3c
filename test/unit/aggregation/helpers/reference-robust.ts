/**
 * The robust rules written the plain way (a native sort per coordinate, a comparator closure for Bulyan's
 * distances), on updates given as arrays of numbers in client order: what the engine's faster code must equal bit
 * for bit.
 */

/** Coordinate-wise median; an even count takes the mean of the two middle values. */
export function referenceMedian(updates: readonly number[][]): number[] {
  return coordinates(updates, (column) => median(Float64Array.from(column).sort()));
}

/** Coordinate-wise mean of ranks cut … n − cut − 1. */
export function referenceTrimmedMean(updates: readonly number[][], beta: number): number[] {
  const cut = Math.floor(beta * updates.length);
  return coordinates(updates, (column) => {
    const sorted = Float64Array.from(column).sort();
    let sum = 0;
    for (let i = cut; i < sorted.length - cut; i++) {
      sum += sorted[i] ?? NaN;
    }
    return sum / (sorted.length - 2 * cut);
  });
}

/** Krum scores over the whole pool: each the sum of the k = max(1, n − f − 2) smallest squared distances. */
export function referenceKrumScores(updates: readonly number[][], f: number, pool?: readonly number[]): number[] {
  const members = pool ?? updates.map((_, i) => i);
  const k = Math.max(1, members.length - f - 2);
  return members.map((i) => {
    const others = members.filter((j) => j !== i).map((j) => squaredDistance(updates[i] ?? [], updates[j] ?? []));
    return others
      .sort((a, b) => a - b)
      .slice(0, k)
      .reduce((sum, d) => sum + d, 0);
  });
}

/** Bulyan with one-shot selection: θ lowest scores (ties by client order), then the β values closest to the median. */
export function referenceBulyan(updates: readonly number[][], f: number): number[] {
  const theta = updates.length - 2 * f;
  const scores = referenceKrumScores(updates, f);
  const chosen = scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => a.score - b.score)
    .slice(0, theta)
    .map((entry) => entry.i)
    .sort((a, b) => a - b);
  return bulyanCombine(
    chosen.map((i) => updates[i] ?? []),
    theta - 2 * f,
  );
}

/** Bulyan with the legacy iterative selection: Krum θ times on a shrinking pool, then the same combine. */
export function referenceBulyanIterative(updates: readonly number[][], f: number): number[] {
  const theta = updates.length - 2 * f;
  const pool = updates.map((_, i) => i);
  const chosen: number[] = [];
  while (chosen.length < theta) {
    const scores = referenceKrumScores(updates, f, pool);
    const best = scores.indexOf(Math.min(...scores));
    chosen.push(...pool.splice(best, 1));
  }
  return bulyanCombine(
    [...chosen].sort((a, b) => a - b).map((i) => updates[i] ?? []),
    theta - 2 * f,
  );
}

/** Per coordinate: the mean of the β values closest to the median, a stable sort by distance deciding ties. */
export function bulyanCombine(selected: readonly number[][], beta: number): number[] {
  return coordinates(selected, (column) => {
    const mu = median(Float64Array.from(column).sort());
    const distance = (i: number): number => Math.abs((column[i] ?? NaN) - mu);
    const closest = column.map((_, i) => i).sort((a, b) => distance(a) - distance(b));
    let sum = 0;
    for (let i = 0; i < beta; i++) {
      sum += column[closest[i] ?? NaN] ?? NaN;
    }
    return sum / beta;
  });
}

function coordinates(updates: readonly number[][], rule: (column: number[]) => number): number[] {
  return (updates[0] ?? []).map((_, j) => rule(updates.map((update) => update[j] ?? NaN)));
}

function median(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function squaredDistance(x: readonly number[], y: readonly number[]): number {
  let sum = 0;
  for (let j = 0; j < x.length; j++) {
    const d = (x[j] ?? NaN) - (y[j] ?? NaN);
    sum += d * d;
  }
  return sum;
}

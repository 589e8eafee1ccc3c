import { coordinateKernel, distanceKernel, MAX_KERNEL_CLIENTS } from '../../../src/kernels/robust-kernels';
import type { CoordinateRule } from '../../../src/kernels/robust-kernels';
import { bulyanCombine, referenceMedian, referenceTrimmedMean } from '../aggregation/helpers/reference-robust';
import { generator } from '../aggregation/helpers/seeded';

type Values = (next: () => number) => number;

const gaussian: Values = (next) => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next()) * 0.05;
/** Few distinct values, both zeros: ties everywhere, as in the golden vectors. */
const ties: Values = (next) => [-1, -0.5, -0, 0, 0.5, 1, 1.5][Math.floor(next() * 7)] ?? 0;
/** Magnitudes from 1e-30 to 1e10, zeros and a subnormal now and then. */
const spread: Values = (next) => {
  const pick = next();
  if (pick < 0.05) {
    return 0;
  }
  if (pick < 0.07) {
    return 1e-40;
  }
  return (next() < 0.5 ? -1 : 1) * 10 ** (next() * 40 - 30);
};
/** Ordinary values, a fifth of them zeros of either sign. */
const withZeros: Values = (next) => (next() < 0.2 ? (next() < 0.5 ? -0 : 0) : gaussian(next));
/** Mostly ordinary values with an infinity or a NaN in some coordinates. */
const nonFinite: Values = (next) => {
  const pick = next();
  return pick < 0.01 ? Infinity : pick < 0.02 ? -Infinity : pick < 0.03 ? NaN : pick < 0.04 ? -NaN : gaussian(next);
};

/** `clients` rows of `count` float32 values, each as the float64 it widens to. */
function updates(clients: number, count: number, values: Values, seed: number): number[][] {
  const next = generator(seed);
  return Array.from({ length: clients }, () => Array.from(Float32Array.from({ length: count }, () => values(next))));
}

/** Lays the rows out in a fresh memory, with a table of their addresses. */
function lay(
  rows: readonly number[][],
  extraBytes: number,
): { memory: WebAssembly.Memory; table: number; free: number } {
  const count = rows[0]?.length ?? 0;
  const bytes = rows.length * (count * 4 + 16) + 4 * rows.length + extraBytes + 64;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  let at = 16;
  const table = at;
  at += Math.ceil((4 * rows.length) / 16) * 16;
  rows.forEach((row, c) => {
    new Int32Array(memory.buffer, table, rows.length)[c] = at;
    new Float32Array(memory.buffer, at, count).set(row);
    // Rows start at addresses that are not 16-aligned, as chunk buffers of odd offsets could.
    at += Math.ceil((4 * count) / 16) * 16 + 4;
  });
  return { memory, table, free: Math.ceil(at / 16) * 16 };
}

const bits = (values: ArrayLike<number>): string[] =>
  Array.from(values, (value) => Buffer.from(new Float64Array([value]).buffer).toString('hex'));

/** The kernel's output where it vouches for it, and which batches it left. */
function runKernel(rows: number[][], rule: CoordinateRule): { out: Float64Array; left: Set<number>; done: number } {
  const count = rows[0]?.length ?? 0;
  const { memory, table, free } = lay(rows, count * 8 + count * 4);
  const kernel = coordinateKernel(memory, rows.length, rule);
  if (kernel === undefined) {
    throw new Error('no kernel');
  }
  const exceptions = free + count * 8;
  const found = kernel.run(table, count, free, exceptions);
  const left = new Set(new Int32Array(memory.buffer, exceptions, found));
  return { out: new Float64Array(memory.buffer, free, count).slice(), left, done: count - (count % 4) };
}

/** Compares the kernel with the reference on every coordinate it did not leave. */
function expectSameBits(rows: number[][], rule: CoordinateRule, reference: number[]): number {
  const { out, left, done } = runKernel(rows, rule);
  const kept = (j: number): boolean => j < done && !left.has(j - (j % 4));
  const indexes = reference.map((_, j) => j).filter(kept);
  expect(bits(indexes.map((j) => out[j] ?? NaN))).toEqual(bits(indexes.map((j) => reference[j] ?? NaN)));
  for (const batch of left) {
    expect(batch % 4).toBe(0);
    expect(batch).toBeLessThan(done);
  }
  return left.size / Math.max(1, done / 4);
}

const COUNT = 4099;

describe('the coordinate kernels', () => {
  const sorting: (readonly [string, number, CoordinateRule, (rows: number[][]) => number[]])[] = [
    ...[1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 33].map(
      (clients) => ['median', clients, { kind: 'median' }, referenceMedian] as const,
    ),
    ...[
      [5, 0.2],
      [10, 0.2],
      [10, 0.1],
      [7, 0.45],
      [20, 0.25],
    ].map(
      ([clients = 0, beta = 0]) =>
        [
          `trimmed mean (beta ${beta})`,
          clients,
          { kind: 'trimmed', cut: Math.floor(beta * clients) },
          (rows: number[][]) => referenceTrimmedMean(rows, beta),
        ] as const,
    ),
  ];

  it.each(sorting)('give the %s of %i clients bit for bit', (_, clients, rule, reference) => {
    for (const [values, seed] of [
      [gaussian, 1],
      [ties, 2],
      [spread, 3],
      [nonFinite, 4],
    ] as const) {
      const rows = updates(clients, COUNT, values, seed * 100 + clients);
      const left = expectSameBits(rows, rule, reference(rows));
      // Only an infinity or a NaN is left to JavaScript by the sorting rules.
      if (values !== nonFinite) {
        expect(left).toBe(0);
      }
    }
  });

  it.each([
    [3, 0],
    [8, 1],
    [7, 1],
    [11, 2],
    [16, 3],
    [6, 0],
  ])("give Bulyan's combine of %i selected clients with f = %i bit for bit", (clients, f) => {
    const beta = clients - 2 * f;
    const ruleFor = { kind: 'bulyan', beta } as const;
    const rows = updates(clients, COUNT, gaussian, 7 + clients);
    // Ordinary weights: every batch done by the kernel.
    expect(expectSameBits(rows, ruleFor, bulyanCombine(rows, beta))).toBe(0);
    // A frozen layer: every client sends the same values; ties everywhere, all harmless.
    const frozen = rows.map(() => rows[0] ?? []);
    expect(expectSameBits(frozen, ruleFor, bulyanCombine(frozen, beta))).toBe(0);
    // Clients in pairs sending the same values: ties between equal values are harmless, and the rest are rare.
    const pairs = rows.map((_, c) => rows[c - (c % 2)] ?? []);
    expect(expectSameBits(pairs, ruleFor, bulyanCombine(pairs, beta))).toBe(0);
    // Zeros of both signs among them: a zero does not widen the span.
    const zeros = updates(clients, COUNT, withZeros, 11 + clients);
    expect(expectSameBits(zeros, ruleFor, bulyanCombine(zeros, beta))).toBe(0);
    // Ties at the edge of the window, spans too wide to add in any order, infinities and NaN: left to JavaScript.
    for (const [values, seed] of [
      [ties, 2],
      [spread, 3],
      [nonFinite, 4],
    ] as const) {
      const other = updates(clients, COUNT, values, seed * 100 + clients);
      expectSameBits(other, ruleFor, bulyanCombine(other, beta));
    }
  });

  it('leaves a batch whose window is decided by a tie, and only that batch', () => {
    // Median 3.0 (in float64 of float32 values); 2.5 and 3.5 are equally far: the client order decides.
    const columns = [
      [1, 2.5, 3, 3.5, 9],
      [1, 2, 3, 3.75, 9],
    ];
    const rows = [0, 1, 2, 3, 4].map((c) => [0, 0, 0, 0, 1, 1, 1, 1].map((batch) => columns[batch]?.[c] ?? 0));
    const { left } = runKernel(rows, { kind: 'bulyan', beta: 1 + 1 });
    expect([...left]).toEqual([0]);
  });

  it('leave nothing to do for fewer than four coordinates', () => {
    const rows = updates(5, 3, gaussian, 9);
    expect(runKernel(rows, { kind: 'median' }).done).toBe(0);
  });

  it('are not made for more clients than they are assembled for', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(coordinateKernel(memory, MAX_KERNEL_CLIENTS + 1, { kind: 'median' })).toBeUndefined();
    expect(distanceKernel(memory, 1)).toBeUndefined();
  });
});

describe("Krum's distance kernel", () => {
  it.each([2, 3, 5, 10, 17])('adds the squared distances of %i clients in coordinate order', (clients) => {
    for (const [values, seed] of [
      [gaussian, 1],
      [spread, 3],
    ] as const) {
      const rows = updates(clients, COUNT, values, seed + clients);
      const { memory, table, free } = lay(rows, clients * clients * 8);
      const sums = new Float64Array(memory.buffer, free, clients * clients);
      sums.fill(0.25);
      distanceKernel(memory, clients)?.run(table, COUNT, free);
      const done = COUNT - (COUNT % 2);
      const expected = new Float64Array(clients * clients).fill(0.25);
      for (let a = 0; a < clients; a++) {
        for (let b = a + 1; b < clients; b++) {
          let sum = 0.25;
          for (let j = 0; j < done; j++) {
            const d = (rows[a]?.[j] ?? NaN) - (rows[b]?.[j] ?? NaN);
            sum += d * d;
          }
          expected[a * clients + b] = sum;
        }
      }
      expect(bits(sums)).toEqual(bits(expected));
    }
  });
});

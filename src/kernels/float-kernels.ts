import { address, assembleModule, F64, I32, op, roundDown, step, V128, whileBelow } from './wasm-assembly';

/**
 * The aggregation's hot loops over float64 sums as WebAssembly SIMD kernels, two float64 lanes per instruction:
 *
 * - `fold32` / `fold64`: sum[i] += w · x[i] for float32 or float64 x, four values per iteration;
 * - `nonFinite`: the first NaN or infinite value of a float64 array;
 * - `narrow32`: float64 values to float32 in place, rounded to nearest even.
 *
 * Each computes exactly what the JavaScript loop it replaces computes (values widened to float64, one
 * multiplication and one addition each rounded as IEEE 754 says, never fused; the same rounding when narrowing),
 * so results are the same bit for bit, several times faster (see `npm run bench`).
 *
 * The module is a few hundred bytes assembled here, instruction by instruction, rather than a binary in the
 * repository: nothing to build or install, and every byte is readable. It imports its memory, which the caller
 * sizes once per aggregation and never grows (growing would detach every view into it): sums, reads and folds all
 * happen in place there.
 */

/** The kernels over one memory; addresses are byte offsets in `memory` (float64 data 8-aligned, float32 4-aligned). */
export interface FloatKernels {
  readonly memory: WebAssembly.Memory;
  /** sum[i] += weight · x[i] for `count` float32 values x. */
  fold32(sum: number, x: number, count: number, weight: number): void;
  /** sum[i] += weight · x[i] for `count` float64 values x. */
  fold64(sum: number, x: number, count: number, weight: number): void;
  /** The index of the first non-finite of `count` float64 values, rounded down to even, or -1. */
  nonFinite(values: number, count: number): number;
  /** Narrows `count` float64 values to float32 in place: value i lands at byte 4·i. */
  narrow32(values: number, count: number): void;
}

/** Float64 arrays the kernels can reach: views into a kernel memory, by its buffer. */
const byBuffer = new WeakMap<ArrayBufferLike, FloatKernels>();
/** Every kernel memory not yet collected, for `kernelMemoryBytes`. */
const memories = new Set<WeakRef<WebAssembly.Memory>>();

/**
 * Bytes of kernel memory not yet collected. Node's `memoryUsage().arrayBuffers` leaves WebAssembly memories out; the
 * memory tests and benchmarks add this, after a garbage collection, to see what an aggregation holds.
 */
export function kernelMemoryBytes(): number {
  let bytes = 0;
  for (const ref of memories) {
    const memory = ref.deref();
    if (memory === undefined) {
      memories.delete(ref);
    } else {
      bytes += memory.buffer.byteLength;
    }
  }
  return bytes;
}

const PAGE_BYTES = 65536;
/** What a 32-bit WebAssembly memory can hold. */
export const MAX_KERNEL_BYTES = 65536 * PAGE_BYTES;

let compiled: WebAssembly.Module | null | undefined;

/**
 * Kernels over a fresh memory of at least `bytes` bytes, or undefined where this runtime lacks WebAssembly SIMD or
 * the memory cannot be had (the caller then runs the JavaScript loops, with the same results).
 */
export function floatKernels(bytes: number): FloatKernels | undefined {
  compiled ??= compileOnce();
  if (compiled === null || bytes > MAX_KERNEL_BYTES) {
    return undefined;
  }
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE_BYTES)) });
  } catch {
    return undefined;
  }
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const kernels = { memory, ...(instance.exports as unknown as Omit<FloatKernels, 'memory'>) };
  byBuffer.set(memory.buffer, kernels);
  memories.add(new WeakRef(memory));
  return kernels;
}

/** The kernels whose memory holds `values`, if any. */
export function kernelsFor(values: ArrayBufferView): FloatKernels | undefined {
  return byBuffer.get(values.buffer);
}

function compileOnce(): WebAssembly.Module | null {
  try {
    const bytes = assemble();
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/**
 * fold32 (`wide` false: float32 values, 4 bytes each) or fold64 (float64 values, 8 bytes each). Parameters sum, x,
 * count, weight (0–3); locals i, end, sumAt, xAt (i32, 4–7) and weights (v128, 8).
 */
function foldBody(wide: boolean): number[] {
  const [SUM, X, COUNT, WEIGHT, I, END, SUM_AT, X_AT, WEIGHTS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  /** Two values at `offset` bytes from X_AT as float64x2. */
  const pair = (offset: number): number[] =>
    wide
      ? [...op.get(X_AT), ...op.v128Load(offset)]
      : [...op.get(X_AT), ...op.v128Load64Zero(offset), ...op.f64x2PromoteLow];
  /** sum[SUM_AT + 16·half … +16] += WEIGHTS · pair. */
  const lanes = (half: number): number[] => [
    ...op.get(SUM_AT),
    ...op.get(SUM_AT),
    ...op.v128Load(16 * half),
    ...pair(half * (wide ? 16 : 8)),
    ...op.get(WEIGHTS),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.v128Store(16 * half),
  ];
  const value = wide ? [...op.get(X_AT), ...op.f64Load(0)] : [...op.get(X_AT), ...op.f32Load(0), ...op.f64PromoteF32];
  const xShift = wide ? 3 : 2;
  return [
    ...[...op.get(WEIGHT), ...op.f64x2Splat, ...op.set(WEIGHTS)],
    ...roundDown(COUNT, 4, END),
    // Four values at a time while four are left, then the last one to three one at a time.
    ...whileBelow(I, END, [
      ...address(SUM, I, 3, SUM_AT),
      ...address(X, I, xShift, X_AT),
      ...lanes(0),
      ...lanes(1),
      ...step(I, 4),
    ]),
    ...whileBelow(I, COUNT, [
      ...address(SUM, I, 3, SUM_AT),
      ...address(X, I, xShift, X_AT),
      ...[...op.get(SUM_AT), ...op.get(SUM_AT), ...op.f64Load(0)],
      ...value,
      ...[...op.get(WEIGHT), ...op.f64Mul, ...op.f64Add, ...op.f64Store(0)],
      ...step(I, 1),
    ]),
    ...op.end,
  ];
}

/**
 * nonFinite: x − x is 0 for finite x and NaN for NaN and ±Inf, and only NaN differs from itself. Parameters values,
 * count (0–1); locals i, end, at (i32, 2–4), pair (v128, 5).
 */
function nonFiniteBody(): number[] {
  const [VALUES, COUNT, I, END, AT, PAIR] = [0, 1, 2, 3, 4, 5];
  const foundAt = [...op.if, ...op.get(I), ...op.return, ...op.end];
  return [
    ...roundDown(COUNT, 2, END),
    ...whileBelow(I, END, [
      ...address(VALUES, I, 3, AT),
      ...[...op.get(AT), ...op.v128Load(0), ...op.set(PAIR)],
      ...[...op.get(PAIR), ...op.get(PAIR), ...op.f64x2Sub, ...op.set(PAIR)],
      ...[...op.get(PAIR), ...op.get(PAIR), ...op.f64x2Ne, ...op.v128AnyTrue],
      ...foundAt,
      ...step(I, 2),
    ]),
    ...whileBelow(I, COUNT, [
      ...address(VALUES, I, 3, AT),
      ...[...op.get(AT), ...op.f64Load(0), ...op.get(AT), ...op.f64Load(0), ...op.f64Sub],
      ...[...op.get(AT), ...op.f64Load(0), ...op.get(AT), ...op.f64Load(0), ...op.f64Sub, ...op.f64Ne],
      ...foundAt,
      ...step(I, 1),
    ]),
    ...op.i32(-1),
    ...op.end,
  ];
}

/**
 * narrow32, in place: pair i is read (16 bytes at 8·i) before its two float32s are written (8 bytes at 4·i), and
 * no later read starts below 8·(i + 2). Parameters values, count (0–1); locals i, end, from, to (i32, 2–5).
 */
function narrowBody(): number[] {
  const [VALUES, COUNT, I, END, FROM, TO] = [0, 1, 2, 3, 4, 5];
  return [
    ...roundDown(COUNT, 2, END),
    ...whileBelow(I, END, [
      ...address(VALUES, I, 3, FROM),
      ...address(VALUES, I, 2, TO),
      ...[...op.get(TO), ...op.get(FROM), ...op.v128Load(0), ...op.f32x4DemoteF64x2Zero, ...op.i64x2ExtractLow],
      ...op.i64Store(0),
      ...step(I, 2),
    ]),
    ...whileBelow(I, COUNT, [
      ...address(VALUES, I, 3, FROM),
      ...address(VALUES, I, 2, TO),
      ...[...op.get(TO), ...op.get(FROM), ...op.f64Load(0), ...op.f32DemoteF64, ...op.f32Store(0)],
      ...step(I, 1),
    ]),
    ...op.end,
  ];
}

/** The module: memory imported as env.memory; fold32, fold64, nonFinite and narrow32 exported. */
function assemble(): Uint8Array {
  const fold = {
    params: [I32, I32, I32, F64],
    results: [],
    locals: [
      [4, I32],
      [1, V128],
    ],
  } as const;
  return assembleModule([
    { name: 'fold32', ...fold, code: foldBody(false) },
    { name: 'fold64', ...fold, code: foldBody(true) },
    {
      name: 'nonFinite',
      params: [I32, I32],
      results: [I32],
      locals: [
        [3, I32],
        [1, V128],
      ],
      code: nonFiniteBody(),
    },
    { name: 'narrow32', params: [I32, I32], results: [], locals: [[4, I32]], code: narrowBody() },
  ]);
}

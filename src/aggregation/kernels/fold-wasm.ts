/**
 * The weighted fold's inner loop, sum[i] += w · x[i] over float64 sums, as a WebAssembly SIMD kernel: two lanes of
 * float64 per instruction, four values per iteration. It computes exactly what the JavaScript loop computes (each
 * value widened to float64, one multiplication, one addition, both rounded as IEEE 754 says; WebAssembly never fuses
 * them), so the result is the same bit for bit, at two to four times the speed (see `npm run bench`).
 *
 * The module is a few hundred bytes assembled here, instruction by instruction, rather than a binary in the
 * repository: nothing to build or install, and every byte is readable. It imports its memory, so the caller sizes
 * it once per aggregation and reads and folds in place.
 */

/** A fold kernel over one memory: byte addresses of the sums and of the values, a count and the weight. */
export interface FoldKernel {
  readonly memory: WebAssembly.Memory;
  /** sum[i] += weight · x[i] for float32 x: `sum` and `x` are byte addresses in `memory` (8- and 4-aligned). */
  fold32(sum: number, x: number, count: number, weight: number): void;
  /** The same for float64 x (8-aligned). */
  fold64(sum: number, x: number, count: number, weight: number): void;
}

const PAGE_BYTES = 65536;

let compiled: WebAssembly.Module | null | undefined;

/**
 * A kernel over a fresh memory of at least `bytes` bytes, or undefined where this runtime lacks WebAssembly SIMD
 * (the caller then folds in JavaScript, with the same result).
 */
export function foldKernel(bytes: number): FoldKernel | undefined {
  compiled ??= compileOnce();
  if (compiled === null) {
    return undefined;
  }
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE_BYTES)) });
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const exports = instance.exports as unknown as Omit<FoldKernel, 'memory'>;
  return { memory, fold32: exports.fold32, fold64: exports.fold64 };
}

function compileOnce(): WebAssembly.Module | null {
  try {
    const bytes = assemble();
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

// Value types, instructions and SIMD instructions (after the 0xfd prefix) used below.
const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (index: number) => [0x20, index],
  set: (index: number) => [0x21, index],
  i32: (value: number) => [0x41, ...sleb(value)],
  i32Add: [0x6a],
  i32And: [0x71],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  f32Load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f64Load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset: number) => [0x39, 3, ...uleb(offset)],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  f64PromoteF32: [0xbb],
  v128Load: (offset: number) => [0xfd, 0x00, 3, ...uleb(offset)],
  v128Load64Zero: (offset: number) => [0xfd, 0x5d, 2, ...uleb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 3, ...uleb(offset)],
  f64x2Splat: [0xfd, 0x14],
  f64x2PromoteLow: [0xfd, 0x5f],
  f64x2Add: [0xfd, 0xf0, 0x01],
  f64x2Mul: [0xfd, 0xf2, 0x01],
};

// Parameters (sum, x, count, weight) and locals (i, end, weights, sumAt, xAt) by index.
const SUM = 0;
const X = 1;
const COUNT = 2;
const WEIGHT = 3;
const I = 4;
const END = 5;
const WEIGHTS = 6;
const SUM_AT = 7;
const X_AT = 8;

/** The body of fold32 (`wide` false: float32 values, 4 bytes each) or fold64 (float64 values, 8 bytes each). */
function foldBody(wide: boolean): number[] {
  const xShift = wide ? 3 : 2;
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
  const address = (base: number, shift: number, into: number): number[] => [
    ...op.get(base),
    ...op.get(I),
    ...op.i32(shift),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(into),
  ];
  const value = wide ? [...op.get(X_AT), ...op.f64Load(0)] : [...op.get(X_AT), ...op.f32Load(0), ...op.f64PromoteF32];
  const step = (by: number): number[] => [...op.get(I), ...op.i32(by), ...op.i32Add, ...op.set(I)];
  return [
    ...op.get(WEIGHT),
    ...op.f64x2Splat,
    ...op.set(WEIGHTS),
    ...op.get(COUNT),
    ...op.i32(-4),
    ...op.i32And,
    ...op.set(END),
    // Four values at a time while four are left.
    ...op.block,
    ...op.loop,
    ...[...op.get(I), ...op.get(END), ...op.i32GeU, ...op.brIf(1)],
    ...address(SUM, 3, SUM_AT),
    ...address(X, xShift, X_AT),
    ...lanes(0),
    ...lanes(1),
    ...step(4),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // The last one to three, one at a time.
    ...op.block,
    ...op.loop,
    ...[...op.get(I), ...op.get(COUNT), ...op.i32GeU, ...op.brIf(1)],
    ...address(SUM, 3, SUM_AT),
    ...address(X, xShift, X_AT),
    ...[...op.get(SUM_AT), ...op.get(SUM_AT), ...op.f64Load(0)],
    ...value,
    ...[...op.get(WEIGHT), ...op.f64Mul, ...op.f64Add, ...op.f64Store(0)],
    ...step(1),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
}

/** The module: memory imported as env.memory, fold32 and fold64 exported. */
function assemble(): Uint8Array {
  const name = (text: string): number[] => [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const locals = [
    [2, I32],
    [1, V128],
    [2, I32],
  ];
  const body = (code: number[]): number[] => {
    const content = [...vector(locals), ...code];
    return [...uleb(content.length), ...content];
  };
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, 4, I32, I32, I32, F64, 0]])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0], [0]])),
    ...section(
      7,
      vector([
        [...name('fold32'), 0x00, 0],
        [...name('fold64'), 0x00, 1],
      ]),
    ),
    ...section(10, vector([body(foldBody(false)), body(foldBody(true))])),
  ]);
}

function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) {
      return out;
    }
  }
}

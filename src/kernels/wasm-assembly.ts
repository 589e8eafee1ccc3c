/**
 * A small WebAssembly assembler: the instructions the kernels use, a few control-flow shapes, and a module of
 * functions over one imported memory (`env.memory`). Kernels are written as arrays of bytes built from these, so a
 * module is assembled at run time (some for a given client count) with nothing to build or install.
 */

// Value types.
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Bytes of a SIMD instruction: the 0xfd prefix, then its number as an unsigned LEB128. */
const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** A memory access's alignment (log2 bytes) and static offset. */
const memarg = (align: number, offset: number): number[] => [align, ...uleb(offset)];

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number): number[] => [0x0c, depth],
  brIf: (depth: number): number[] => [0x0d, depth],
  return: [0x0f],
  get: (index: number): number[] => [0x20, ...uleb(index)],
  set: (index: number): number[] => [0x21, ...uleb(index)],
  tee: (index: number): number[] => [0x22, ...uleb(index)],
  i32: (value: number): number[] => [0x41, ...sleb(value)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  i32Load: (offset: number): number[] => [0x28, ...memarg(2, offset)],
  i32Store: (offset: number): number[] => [0x36, ...memarg(2, offset)],
  f32Load: (offset: number): number[] => [0x2a, ...memarg(2, offset)],
  f64Load: (offset: number): number[] => [0x2b, ...memarg(3, offset)],
  f32Store: (offset: number): number[] => [0x38, ...memarg(2, offset)],
  f64Store: (offset: number): number[] => [0x39, ...memarg(3, offset)],
  i64Store: (offset: number): number[] => [0x37, ...memarg(3, offset)],
  f64Ne: [0x62],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  v128Load: (offset: number): number[] => [...simd(0x00), ...memarg(4, offset)],
  v128Load64Zero: (offset: number): number[] => [...simd(0x5d), ...memarg(3, offset)],
  v128Store: (offset: number): number[] => [...simd(0x0b), ...memarg(4, offset)],
  /** i8x16.shuffle of two vectors by 16 lane indexes (0–15 the first, 16–31 the second). */
  i8x16Shuffle: (lanes: readonly number[]): number[] => [...simd(0x0d), ...lanes],
  i32x4Splat: simd(0x11),
  f64x2Splat: simd(0x14),
  i64x2ExtractLow: [...simd(0x1d), 0],
  f64x2ExtractLane: (lane: number): number[] => [...simd(0x21), lane],
  i32x4Eq: simd(0x37),
  i32x4GtS: simd(0x3b),
  f64x2Eq: simd(0x47),
  f64x2Ne: simd(0x48),
  f64x2Lt: simd(0x49),
  f64x2Gt: simd(0x4a),
  f64x2Ge: simd(0x4c),
  v128Not: simd(0x4d),
  v128And: simd(0x4e),
  /** v128.andnot(a, b): a & ~b. */
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  v128Xor: simd(0x51),
  /** v128.bitselect(a, b, mask): a's bits where mask is set, b's elsewhere. */
  v128Bitselect: simd(0x52),
  v128AnyTrue: simd(0x53),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLow: simd(0x5f),
  i32x4Shl: simd(0xab),
  i32x4ShrS: simd(0xac),
  i32x4ShrU: simd(0xad),
  i32x4Sub: simd(0xb1),
  i32x4MinS: simd(0xb6),
  i32x4MinU: simd(0xb7),
  i32x4MaxS: simd(0xb8),
  i32x4MaxU: simd(0xb9),
  f64x2Abs: simd(0xec),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  f64x2Div: simd(0xf3),
  f64x2Max: simd(0xf5),
};

/** Local `into` = `base` + `I` · 2^`shift` (a byte address). */
export function address(base: number, index: number, shift: number, into: number): number[] {
  return [...op.get(base), ...op.get(index), ...op.i32(shift), ...op.i32Shl, ...op.i32Add, ...op.set(into)];
}

/** `local` += `by`. */
export function step(local: number, by: number): number[] {
  return [...op.get(local), ...op.i32(by), ...op.i32Add, ...op.set(local)];
}

/** A loop that runs `body` while local `index` < local `limit` (the body steps the index). */
export function whileBelow(index: number, limit: number, body: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...[...op.get(index), ...op.get(limit), ...op.i32GeU, ...op.brIf(1)],
    ...body,
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** Local `into` = local `count` rounded down to a multiple of `multiple` (a power of two). */
export function roundDown(count: number, multiple: number, into: number): number[] {
  return [...op.get(count), ...op.i32(-multiple), ...op.i32And, ...op.set(into)];
}

/** One exported function: its signature, its locals after the parameters (runs of [count, type]) and its code. */
export interface AssembledFunction {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  readonly locals: readonly (readonly [number, number])[];
  /** The body, ending with `op.end`. */
  readonly code: readonly number[];
}

/** A module importing its memory as `env.memory` and exporting `functions` by name, one type per function. */
export function assembleModule(functions: readonly AssembledFunction[]): Uint8Array {
  const name = (text: string): number[] => [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const body = (f: AssembledFunction): number[] => {
    const content = [...vector(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.code];
    return [...uleb(content.length), ...content];
  };
  const type = (f: AssembledFunction): number[] => [
    0x60,
    ...uleb(f.params.length),
    ...f.params,
    ...uleb(f.results.length),
    ...f.results,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(functions.map(type))),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((_, index) => uleb(index)))),
    ...section(7, vector(functions.map((f, index) => [...name(f.name), 0x00, ...uleb(index)]))),
    ...section(10, vector(functions.map(body))),
  ]);
}

export function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return out;
}

export function sleb(value: number): number[] {
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

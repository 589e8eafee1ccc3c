import { sortingNetwork } from './sorting-network';
import { F64, I32, V128, assembleModule, op, step, whileBelow } from './wasm-assembly';
import type { AssembledFunction } from './wasm-assembly';

/**
 * The robust rules' per-coordinate work as WebAssembly SIMD kernels, assembled for a given client count: the
 * coordinate-wise median, the trimmed mean and Bulyan's combine over float32 updates, four coordinates per
 * instruction, and Krum's pairwise squared distances. Each gives exactly the bits of the JavaScript rule it stands in
 * for, or leaves the coordinates it cannot vouch for to it:
 *
 * - The values are sorted as integers: a float32's bits with the other bits flipped when the sign is set order like
 *   the numbers, −0 before +0, which is the order `Float64Array.prototype.sort` gives. A batch holding an infinity or
 *   a NaN (whose place differs) is left to JavaScript.
 * - Sums are taken in the order JavaScript takes them, except Bulyan's: JavaScript adds the kept values closest to the
 *   median first. The kernel adds them in sorted order and keeps the sum only when no order can change it: when the
 *   values' exponents span so few binades that every partial sum is exact in float64 (float32 values of θ clients
 *   whose largest and smallest nonzero magnitudes are within 2^(29 − ⌈log2 θ⌉) of each other; weights of a trained
 *   model nearly always are). Which values are kept is decided by the same float64 distances; a tie at the edge of
 *   the kept window, where the client order decides, is left to JavaScript.
 * - Krum's distances add each pair's squared differences one coordinate at a time in coordinate order, in float64,
 *   as JavaScript does; the differences and squares of two coordinates are taken at once.
 */

/** What a coordinate kernel computes from the θ values of a coordinate. */
export type CoordinateRule =
  | { readonly kind: 'median' }
  | { readonly kind: 'trimmed'; readonly cut: number }
  | { readonly kind: 'bulyan'; readonly beta: number };

/** Up to this many clients get kernels (the code grows with the square of the count); more run in JavaScript. */
export const MAX_KERNEL_CLIENTS = 64;

export interface CoordinateKernel {
  /**
   * out[j] = rule(coordinate j of every client) for j below `count` rounded down to a multiple of 4. `table` holds
   * one byte address per client of its float32 values (4-aligned), `out` is float64 (8-aligned). Returns how many
   * batches of four coordinates it left undone; their first coordinates are written as int32 at `exceptions`.
   */
  run(table: number, count: number, out: number, exceptions: number): number;
}

export interface DistanceKernel {
  /**
   * sums[a·n + b] += Σ_j (x_a[j] − x_b[j])² for every pair a < b, over j below `count` rounded down to even, one
   * coordinate after the other; `table` holds one byte address per client of its float32 values.
   */
  run(table: number, count: number, sums: number): void;
}

const modules = new Map<string, WebAssembly.Module | null>();

/** The kernel for `clients` clients and `rule` over `memory`, or undefined where it cannot run (no SIMD, too many). */
export function coordinateKernel(
  memory: WebAssembly.Memory,
  clients: number,
  rule: CoordinateRule,
): CoordinateKernel | undefined {
  if (clients < 1 || clients > MAX_KERNEL_CLIENTS) {
    return undefined;
  }
  const key = `${rule.kind}:${clients}:${rule.kind === 'trimmed' ? rule.cut : rule.kind === 'bulyan' ? rule.beta : 0}`;
  const module = compiled(key, () => coordinateFunction(clients, rule));
  if (module === undefined) {
    return undefined;
  }
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports.run;
  return { run: run as CoordinateKernel['run'] };
}

/** Krum's distance kernel for `clients` clients over `memory`, or undefined where it cannot run. */
export function distanceKernel(memory: WebAssembly.Memory, clients: number): DistanceKernel | undefined {
  if (clients < 2 || clients > MAX_KERNEL_CLIENTS) {
    return undefined;
  }
  const module = compiled(`distances:${clients}`, () => distanceFunction(clients));
  if (module === undefined) {
    return undefined;
  }
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports.run;
  return { run: run as DistanceKernel['run'] };
}

function compiled(key: string, make: () => AssembledFunction): WebAssembly.Module | undefined {
  if (!modules.has(key)) {
    modules.set(key, compile(make));
  }
  return modules.get(key) ?? undefined;
}

function compile(make: () => AssembledFunction): WebAssembly.Module | null {
  try {
    const bytes = assembleModule([make()]);
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** Numbers locals after the parameters, by type, as a function's code asks for them. */
class Locals {
  readonly runs: [number, number][] = [];
  private next: number;

  constructor(params: number) {
    this.next = params;
  }

  add(type: number, count = 1): number {
    const first = this.next;
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last[1] === type) {
      last[0] += count;
    } else {
      this.runs.push([count, type]);
    }
    this.next += count;
    return first;
  }
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
const f64Const = (value: number): number[] => [0x44, ...new Uint8Array(new Float64Array([value]).buffer)];
const splatI32 = (value: number, into: number): number[] => [...op.i32(value), ...op.i32x4Splat, ...op.set(into)];
const splatF64 = (value: number, into: number): number[] => [...f64Const(value), ...op.f64x2Splat, ...op.set(into)];

/** Locals `first` … `first + clients − 1` = the table's addresses, one per client. */
function loadTable(table: number, first: number, clients: number): number[] {
  return range(0, clients).flatMap((c) => [...op.get(table), ...op.i32Load(4 * c), ...op.set(first + c)]);
}

/**
 * run(table, count, out, exceptions) → batches left. Per batch of four coordinates: load every client's four float32,
 * check them, map them to ordered integers, sort them with the network, map back, then per half (two coordinates, as
 * float64) apply the rule and store.
 */
function coordinateFunction(clients: number, rule: CoordinateRule): AssembledFunction {
  const TABLE = 0;
  const COUNT = 1;
  const OUT = 2;
  const EXCEPTIONS = 3;
  const locals = new Locals(4);
  const I = locals.add(I32);
  const END = locals.add(I32);
  const OFF = locals.add(I32);
  const FOUND = locals.add(I32);
  const AT = locals.add(I32);
  const pointer = locals.add(I32, clients);
  const wire = locals.add(V128, clients);
  const float = locals.add(V128, clients);
  const distance = locals.add(V128, clients);
  const prefix = locals.add(V128, clients + 1);
  const T = locals.add(V128);
  const E = locals.add(V128);
  const EMAX = locals.add(V128);
  const EMIN = locals.add(V128);
  const BAD = locals.add(V128);
  const MU = locals.add(V128);
  const R = locals.add(V128);
  const ANY = locals.add(V128);
  const C = locals.add(V128);
  const G = locals.add(V128);
  const TIE = locals.add(V128);
  const ZERO = locals.add(V128);
  const ONES = locals.add(V128);
  const K255 = locals.add(V128);
  const LIMIT = locals.add(V128);
  const TWO = locals.add(V128);
  const DIVISOR = locals.add(V128);
  const bulyan = rule.kind === 'bulyan';
  const w = (c: number): number => wire + c;
  const f = (c: number): number => float + c;
  const d = (c: number): number => distance + c;

  /** w_c ^= (w_c >>s 31) >>> 1: float32 bits to ordered integers and back (the map is its own inverse). */
  const flip = (c: number): number[] => [
    ...op.get(w(c)),
    ...op.get(w(c)),
    ...op.i32(31),
    ...op.i32x4ShrS,
    ...op.i32(1),
    ...op.i32x4ShrU,
    ...op.v128Xor,
    ...op.set(w(c)),
  ];
  /** The largest exponent field of the batch, and (Bulyan) the smallest of its nonzero values. */
  const exponents = (c: number): number[] => [
    ...[...op.get(w(c)), ...op.i32(1), ...op.i32x4Shl, ...op.set(T)],
    ...[...op.get(T), ...op.i32(24), ...op.i32x4ShrU, ...op.set(E)],
    ...[...op.get(EMAX), ...op.get(E), ...op.i32x4MaxU, ...op.set(EMAX)],
    ...(bulyan
      ? [...op.get(EMIN), ...op.get(E), ...op.get(T), ...op.get(ZERO), ...op.i32x4Eq, ...op.v128Or, ...op.i32x4MinU]
      : []),
    ...(bulyan ? op.set(EMIN) : []),
  ];
  const compareExchange = ([a, b]: readonly [number, number]): number[] => [
    ...[...op.get(w(a)), ...op.get(w(b)), ...op.i32x4MinS, ...op.set(T)],
    ...[...op.get(w(a)), ...op.get(w(b)), ...op.i32x4MaxS, ...op.set(w(b))],
    ...[...op.get(T), ...op.set(w(a))],
  ];
  // Wires whose values the rule reads.
  const middle = clients >> 1;
  const needed =
    rule.kind === 'median'
      ? clients % 2 === 1
        ? [middle]
        : [middle - 1, middle]
      : rule.kind === 'trimmed'
        ? range(rule.cut, clients - rule.cut)
        : range(0, clients);
  const widen = (c: number, half: number): number[] => [
    ...op.get(w(c)),
    ...(half === 0 ? [] : [...op.get(w(c)), ...op.i8x16Shuffle([...range(8, 16), ...range(0, 8)])]),
    ...op.f64x2PromoteLow,
    ...op.set(f(c)),
  ];
  const median = (): number[] =>
    clients % 2 === 1
      ? [...op.get(f(middle)), ...op.set(MU)]
      : [...op.get(f(middle - 1)), ...op.get(f(middle)), ...op.f64x2Add, ...op.get(TWO), ...op.f64x2Div, ...op.set(MU)];
  const result = (): number[] => {
    if (rule.kind === 'median') {
      return [...median(), ...op.get(MU)];
    }
    if (rule.kind === 'trimmed') {
      return [
        ...op.get(ZERO),
        ...range(rule.cut, clients - rule.cut).flatMap((c) => [...op.get(f(c)), ...op.f64x2Add]),
        ...op.get(DIVISOR),
        ...op.f64x2Div,
      ];
    }
    const beta = rule.beta;
    const drop = clients - beta;
    /** m_c: whether client value c's distance is the window's largest, g; below_c, above_c: its side of μ. */
    const member = (c: number): number[] => [...op.get(d(c)), ...op.get(G), ...op.f64x2Eq];
    const side = (c: number, compare: number[]): number[] => [...op.get(f(c)), ...op.get(MU), ...compare];
    /** OR over the window's edges and outside neighbours with distance g of: that value is on `compare`'s side. */
    const anyOnSide = (k: number, compare: number[]): number[] => {
      const members = [k, k + beta - 1, ...(k > 0 ? [k - 1] : []), ...(k + beta < clients ? [k + beta] : [])];
      return members.flatMap((c, i) => [...member(c), ...side(c, compare), ...op.v128And, ...(i > 0 ? op.v128Or : [])]);
    };
    /**
     * Window k (sorted values k … k + β − 1) is the kept set when no value outside is closer than its farthest, g,
     * and no value outside at distance g could take the place of one inside of another value: values at distance g
     * on both sides of μ with one of them outside, where JavaScript's client order would decide. (Values within the
     * exponent span checked are exact distances: equal distances on one side are equal values.)
     */
    const window = (k: number): number[] => {
      const outside = [...(k > 0 ? [k - 1] : []), ...(k + beta < clients ? [k + beta] : [])];
      return [
        ...[...op.get(d(k)), ...op.get(d(k + beta - 1)), ...op.f64x2Max, ...op.set(G)],
        ...[...op.get(ONES), ...op.set(C), ...op.get(ZERO), ...op.set(TIE)],
        ...outside.flatMap((c) => [
          ...[...op.get(C), ...op.get(d(c)), ...op.get(G), ...op.f64x2Ge, ...op.v128And, ...op.set(C)],
          ...[...op.get(TIE), ...member(c), ...op.v128Or, ...op.set(TIE)],
        ]),
        ...[...op.get(C), ...op.get(TIE), ...anyOnSide(k, op.f64x2Lt), ...op.v128And],
        ...[...anyOnSide(k, op.f64x2Gt), ...op.v128And, ...op.v128AndNot, ...op.set(C)],
        // r = C ? P[k + β] − P[k] : r
        ...[...op.get(prefix + k + beta), ...op.get(prefix + k), ...op.f64x2Sub, ...op.get(R), ...op.get(C)],
        ...[...op.v128Bitselect, ...op.set(R)],
        ...[...op.get(ANY), ...op.get(C), ...op.v128Or, ...op.set(ANY)],
      ];
    };
    return [
      ...median(),
      ...range(0, clients).flatMap((c) => [
        ...[...op.get(f(c)), ...op.get(MU), ...op.f64x2Sub, ...op.f64x2Abs, ...op.set(d(c))],
        ...[...op.get(prefix + c), ...op.get(f(c)), ...op.f64x2Add, ...op.set(prefix + c + 1)],
      ]),
      ...[...op.get(ZERO), ...op.set(R), ...op.get(ZERO), ...op.set(ANY)],
      ...range(0, drop + 1).flatMap(window),
      // A lane where no window is clearly the closest: a tie the client order decides.
      ...[...op.get(BAD), ...op.get(ANY), ...op.v128Not, ...op.v128Or, ...op.set(BAD)],
      ...[...op.get(R), ...op.get(DIVISOR), ...op.f64x2Div],
    ];
  };
  const store = (half: number): number[] => [
    ...[...op.get(AT), ...op.get(OUT), ...op.get(I), ...op.i32(3), ...op.i32Shl, ...op.i32Add, ...op.set(AT)],
    ...op.get(AT),
    ...result(),
    ...op.v128Store(16 * half),
  ];
  // Every sum of the values exact (29 − ⌈log2 θ⌉), and every distance to the median (27).
  const limit = Math.min(27, 29 - Math.ceil(Math.log2(clients)));
  const divisor = rule.kind === 'trimmed' ? clients - 2 * rule.cut : rule.kind === 'bulyan' ? rule.beta : 1;
  const code = [
    ...loadTable(TABLE, pointer, clients),
    ...[...splatI32(0, ZERO), ...splatI32(-1, ONES), ...splatI32(255, K255), ...splatI32(limit, LIMIT)],
    ...[...splatF64(2, TWO), ...splatF64(divisor, DIVISOR), ...op.get(ZERO), ...op.set(prefix)],
    ...[...op.get(COUNT), ...op.i32(-4), ...op.i32And, ...op.set(END)],
    ...whileBelow(I, END, [
      ...[...op.get(I), ...op.i32(2), ...op.i32Shl, ...op.set(OFF)],
      ...range(0, clients).flatMap((c) => [
        ...[...op.get(pointer + c), ...op.get(OFF), ...op.i32Add, ...op.v128Load(0), ...op.set(w(c))],
      ]),
      ...[...op.get(ZERO), ...op.set(EMAX), ...op.get(ONES), ...op.set(EMIN)],
      ...range(0, clients).flatMap(exponents),
      // An infinity or a NaN: JavaScript's sort puts NaN last, whatever its sign.
      ...[...op.get(EMAX), ...op.get(K255), ...op.i32x4Eq, ...op.set(BAD)],
      ...(bulyan
        ? [...op.get(BAD), ...op.get(EMAX), ...op.get(EMIN), ...op.i32x4Sub, ...op.get(LIMIT), ...op.i32x4GtS]
        : []),
      ...(bulyan ? [...op.v128Or, ...op.set(BAD)] : []),
      ...range(0, clients).flatMap(flip),
      ...sortingNetwork(clients).flatMap(compareExchange),
      ...needed.flatMap(flip),
      ...needed.flatMap((c) => widen(c, 0)),
      ...store(0),
      ...needed.flatMap((c) => widen(c, 1)),
      ...store(1),
      ...[...op.get(BAD), ...op.v128AnyTrue, ...op.if],
      ...[...op.get(EXCEPTIONS), ...op.get(FOUND), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.get(I)],
      ...[...op.i32Store(0), ...step(FOUND, 1), ...op.end],
      ...step(I, 4),
    ]),
    ...op.get(FOUND),
    ...op.end,
  ];
  return { name: 'run', params: [I32, I32, I32, I32], results: [I32], locals: locals.runs, code };
}

/**
 * run(table, count, sums): every pair's running sum in a float64 local, loaded before the loop and stored after;
 * per two coordinates, every client's two values widened once, then per pair one subtraction and one multiplication
 * for both coordinates and the two squares added in coordinate order.
 */
function distanceFunction(clients: number): AssembledFunction {
  const TABLE = 0;
  const COUNT = 1;
  const SUMS = 2;
  const locals = new Locals(3);
  const I = locals.add(I32);
  const END = locals.add(I32);
  const OFF = locals.add(I32);
  const pointer = locals.add(I32, clients);
  const value = locals.add(V128, clients);
  const T = locals.add(V128);
  const pairs = range(0, clients).flatMap((a) => range(a + 1, clients).map((b) => [a, b] as const));
  const sum = locals.add(F64, pairs.length);
  const at = ([a, b]: readonly [number, number]): number => 8 * (a * clients + b);
  const code = [
    ...loadTable(TABLE, pointer, clients),
    ...pairs.flatMap((pair, p) => [...op.get(SUMS), ...op.f64Load(at(pair)), ...op.set(sum + p)]),
    ...[...op.get(COUNT), ...op.i32(-2), ...op.i32And, ...op.set(END)],
    ...whileBelow(I, END, [
      ...[...op.get(I), ...op.i32(2), ...op.i32Shl, ...op.set(OFF)],
      ...range(0, clients).flatMap((c) => [
        ...[...op.get(pointer + c), ...op.get(OFF), ...op.i32Add, ...op.v128Load64Zero(0), ...op.f64x2PromoteLow],
        ...op.set(value + c),
      ]),
      ...pairs.flatMap(([a, b], p) => [
        ...[...op.get(value + a), ...op.get(value + b), ...op.f64x2Sub, ...op.tee(T), ...op.get(T), ...op.f64x2Mul],
        ...op.set(T),
        ...[...op.get(sum + p), ...op.get(T), ...op.f64x2ExtractLane(0), ...op.f64Add],
        ...[...op.get(T), ...op.f64x2ExtractLane(1), ...op.f64Add, ...op.set(sum + p)],
      ]),
      ...step(I, 2),
    ]),
    ...pairs.flatMap((pair, p) => [...op.get(SUMS), ...op.get(sum + p), ...op.f64Store(at(pair))]),
    ...op.end,
  ];
  return { name: 'run', params: [I32, I32, I32], results: [], locals: locals.runs, code };
}

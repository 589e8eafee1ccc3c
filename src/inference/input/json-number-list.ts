import type { FloatTensor } from '../tensor';
import { type InputLimits, MAX_RANK } from './input-limits';
import { JSON_BYTES, skipJsonSpace } from './json-bytes';

const {
  openBracket: OPEN,
  closeBracket: CLOSE,
  comma: COMMA,
  minus: MINUS,
  plus: PLUS,
  dot: DOT,
  zero: ZERO,
  nine: NINE,
  lowerE: LOWER_E,
  upperE: UPPER_E,
} = JSON_BYTES;

/** Powers of ten a double holds exactly: a mantissa below 2^53 scaled by one of them is rounded once, correctly. */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Significant digits that always fit a double's 53-bit mantissa exactly. */
const EXACT_DIGITS = 15;
/** Significant digits read into an estimate: the rest change a float32 by less than the margin they are read with. */
const KEPT_DIGITS = 19;

/**
 * Reads the UTF-8 text of a JSON nested list of numbers (`[[0.5, 1e-3], [2, -4]]`) straight into a row-major float32
 * tensor, with the values `JSON.parse` and a Float32Array would give: a number of up to 15 significant digits and
 * an exponent within ±22 is one exact scaling of its digits, correctly rounded (Clinger's fast path); a longer one
 * (a double as Python and JavaScript print it) is an estimate whose float32 is certain unless it lies within a hair
 * of a rounding boundary (`nearFloat32`), where its text is converted exactly. A third less time than `JSON.parse`,
 * the walk of its arrays and their garbage take for short numbers, a tenth to a fifth less for long ones. Undefined
 * for anything else (a string, `null`, an object, an empty or ragged list, a malformed number, a number beyond a
 * double, more than `limits.maxElements` numbers or `MAX_RANK` levels): the caller then parses it the usual way,
 * which reads it or refuses it in the usual words.
 */
export function parseNumberList(bytes: Uint8Array, limits: InputLimits): FloatTensor | undefined {
  const n = bytes.length;
  // Every number takes a byte and a comma after it, at least: room grows by doubling up to that.
  const capacity = Math.min((n >> 1) + 1, limits.maxElements);
  let data = new Float32Array(Math.min(capacity, 1024));
  let count = 0;
  /** Items of the first list closed at each depth (the shape), 0 until it closes; items so far in the open ones. */
  const dims = new Int32Array(MAX_RANK);
  const items = new Int32Array(MAX_RANK);
  let leafDepth = -1;
  let depth = 0;
  let i = skipJsonSpace(bytes, 0);
  if (i >= n || bytes[i] !== OPEN) {
    return undefined;
  }
  while (i < n) {
    // At an item's start.
    if (bytes[i] === OPEN) {
      if (depth === MAX_RANK || (leafDepth >= 0 && depth >= leafDepth)) {
        return undefined;
      }
      items[depth] = 0;
      depth += 1;
      i = skipJsonSpace(bytes, i + 1);
      continue;
    }
    if (depth === 0 || (leafDepth >= 0 && depth !== leafDepth)) {
      return undefined;
    }
    leafDepth = depth;
    if (count === data.length) {
      if (count === capacity) {
        return undefined;
      }
      const larger = new Float32Array(Math.min(capacity, 2 * count));
      larger.set(data);
      data = larger;
    }
    const end = readNumber(bytes, i, n, data, count);
    // Malformed, or too large for a double (Infinity): the usual parser names where it is.
    if (end < 0) {
      return undefined;
    }
    count += 1;
    i = skipJsonSpace(bytes, end);
    // After an item: a comma and the next, or the end of one list or more.
    for (;;) {
      if (i >= n) {
        return undefined;
      }
      const list = depth - 1;
      items[list] = (items[list] ?? 0) + 1;
      const after = bytes[i];
      if (after === COMMA) {
        i = skipJsonSpace(bytes, i + 1);
        break;
      }
      if (after !== CLOSE) {
        return undefined;
      }
      if (dims[list] === 0) {
        dims[list] = items[list] ?? 0;
      } else if (dims[list] !== items[list]) {
        return undefined;
      }
      depth -= 1;
      i = skipJsonSpace(bytes, i + 1);
      if (depth === 0) {
        if (i !== n) {
          return undefined;
        }
        return {
          dims: Array.from(dims.subarray(0, leafDepth)),
          data: count === data.length ? data : data.slice(0, count),
        };
      }
    }
  }
  return undefined;
}

/**
 * Reads the JSON number starting at `from` into `out[at]` (as a Float32Array stores what `JSON.parse` reads) and
 * answers the index after it; -1 when none starts there, it breaks JSON's grammar (a leading zero, a bare dot, an
 * exponent without digits) or is too large for a double. It stores rather than returns the value: a double returned
 * from a function the engine does not inline is a heap object, one per number, and garbage to collect.
 */
function readNumber(bytes: Uint8Array, from: number, n: number, out: Float32Array, at: number): number {
  let i = from;
  let c = bytes[i] ?? 0;
  const negative = c === MINUS;
  if (negative) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
  }
  if (c < ZERO || c > NINE) {
    return -1;
  }
  // The first KEPT_DIGITS significant digits, and the power of ten they are scaled by.
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  if (c === ZERO) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
    if (c >= ZERO && c <= NINE) {
      return -1;
    }
  } else {
    while (c >= ZERO && c <= NINE) {
      if (digits < KEPT_DIGITS) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits += 1;
      } else {
        scale += 1;
      }
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
  }
  if (c === DOT) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
    if (c < ZERO || c > NINE) {
      return -1;
    }
    while (c >= ZERO && c <= NINE) {
      if (digits < KEPT_DIGITS) {
        mantissa = mantissa * 10 + (c - ZERO);
        // Leading zeros (0.000…) are no significant digits.
        digits += mantissa === 0 ? 0 : 1;
        scale -= 1;
      }
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
  }
  if (c === LOWER_E || c === UPPER_E) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
    let sign = 1;
    if (c === MINUS || c === PLUS) {
      sign = c === MINUS ? -1 : 1;
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
    if (c < ZERO || c > NINE) {
      return -1;
    }
    let exponent = 0;
    while (c >= ZERO && c <= NINE) {
      // Capped: so large an exponent is out of every fast range, and Number reads the text.
      exponent = Math.min(exponent * 10 + (c - ZERO), 1e6);
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
    scale += sign * exponent;
  }
  let value: number;
  if (digits <= EXACT_DIGITS && scale >= -22 && scale <= 22) {
    // Clinger's fast path: digits and power both exact, so one operation rounds once, correctly.
    value = scale < 0 ? mantissa / (EXACT_POWERS[-scale] ?? 1) : mantissa * (EXACT_POWERS[scale] ?? 1);
  } else {
    value = scale >= -44 && scale <= 44 ? nearFloat32(mantissa, scale) : NaN;
    if (Number.isNaN(value)) {
      // Beyond those ranges, or too near a float32 rounding boundary to tell: the engine's conversion of the text.
      value = Number(latin1Slice.call(bytes, negative ? from + 1 : from, i));
    }
  }
  if (!Number.isFinite(value)) {
    return -1;
  }
  out[at] = negative ? -value : value;
  return i;
}

/** Relative distance from a float32 rounding boundary beyond which `nearFloat32`'s estimate is surely on its side. */
const MARGIN = 2 ** -44;
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_MIN_NORMAL = 2 ** -126;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * The float32 nearest `mantissa` × 10^`scale` (at most 19 digits, |scale| ≤ 44, not negative), or NaN when that
 * cannot be told without the exact conversion. The estimate, made in at most seven roundings of a double (the
 * mantissa's digits beyond 2^53, then one or two scalings by exact powers of ten), is within 2^-49 of the true
 * value, relatively; the correctly rounded double is within 2^-53. When the estimate lies further than 2^-44 from
 * the nearest midpoint between two float32 values, both lie on the same side of it and round to the same float32,
 * so this is what `Math.fround(JSON.parse(text))` gives. Nearer (about one number in 2^19), and for values outside
 * float32's normal range: NaN.
 */
function nearFloat32(mantissa: number, scale: number): number {
  let estimate: number;
  if (scale < -22) {
    estimate = mantissa / 1e22 / (EXACT_POWERS[-22 - scale] ?? 1);
  } else if (scale > 22) {
    estimate = mantissa * 1e22 * (EXACT_POWERS[scale - 22] ?? 1);
  } else {
    estimate = scale < 0 ? mantissa / (EXACT_POWERS[-scale] ?? 1) : mantissa * (EXACT_POWERS[scale] ?? 1);
  }
  if (estimate === 0) {
    return 0;
  }
  if (!(estimate >= FLOAT32_MIN_NORMAL && estimate < FLOAT32_MAX)) {
    return NaN;
  }
  const single = Math.fround(estimate);
  // Its neighbour on the estimate's side, one step of its bits away (positive and normal: steps are magnitudes).
  F32[0] = single;
  U32[0] = (U32[0] ?? 0) + (estimate > single ? 1 : -1);
  const midpoint = (single + (F32[0] ?? 0)) / 2;
  return Math.abs(estimate - midpoint) > estimate * MARGIN ? single : NaN;
}

/** Buffer's own slice to a one-byte string, on any Uint8Array: no Buffer object made per number. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (start: number, end: number) => string })
  .latin1Slice;

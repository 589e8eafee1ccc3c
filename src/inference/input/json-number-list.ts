import type { FloatTensor } from '../tensor';
import { type InputLimits, MAX_RANK } from './input-limits';

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Powers of ten a double holds exactly: a mantissa below 2^53 scaled by one of them is rounded once, correctly. */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Significant digits that always fit a double's 53-bit mantissa exactly. */
const EXACT_DIGITS = 15;

/**
 * Reads the UTF-8 text of a JSON nested list of numbers (`[[0.5, 1e-3], [2, -4]]`) straight into a row-major float32
 * tensor, with the values `JSON.parse` and a Float32Array would give: a number of up to 15 significant digits and
 * an exponent within ±22 is one exact scaling of its digits, correctly rounded (Clinger's fast path), in a third
 * less time than `JSON.parse`, the walk of its arrays and their garbage take. Undefined for anything else (a longer
 * number, a string, `null`, an object, an empty or ragged list, a malformed number, more than `limits.maxElements`
 * numbers or `MAX_RANK` levels): the caller then parses it the usual way, which reads it or refuses it in the usual
 * words.
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
  let i = skipSpace(bytes, 0, n);
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
      i = skipSpace(bytes, i + 1, n);
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
    const value = readNumber(bytes, i, n);
    // Malformed (the usual parser names where), or beyond the exact range.
    if (Number.isNaN(value)) {
      return undefined;
    }
    data[count++] = value;
    i = skipSpace(bytes, cursor, n);
    // After an item: a comma and the next, or the end of one list or more.
    for (;;) {
      if (i >= n) {
        return undefined;
      }
      const list = depth - 1;
      items[list] = (items[list] ?? 0) + 1;
      const after = bytes[i];
      if (after === COMMA) {
        i = skipSpace(bytes, i + 1, n);
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
      i = skipSpace(bytes, i + 1, n);
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

/** Where `readNumber` stopped: the index after the number it read. */
let cursor = 0;

function skipSpace(bytes: Uint8Array, from: number, n: number): number {
  let i = from;
  while (i < n) {
    const c = bytes[i] ?? 0;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      return i;
    }
    i += 1;
  }
  return i;
}

/**
 * The JSON number starting at `from`, as `JSON.parse` reads it, its end in `cursor`; NaN when none starts there or
 * it breaks JSON's grammar (a leading zero, a bare dot, an exponent without digits).
 */
function readNumber(bytes: Uint8Array, from: number, n: number): number {
  let i = from;
  let c = bytes[i] ?? 0;
  const negative = c === MINUS;
  if (negative) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
  }
  if (c < ZERO || c > NINE) {
    return NaN;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  if (c === ZERO) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
    if (c >= ZERO && c <= NINE) {
      return NaN;
    }
  } else {
    while (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits += 1;
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
  }
  if (c === DOT) {
    i += 1;
    c = i < n ? (bytes[i] ?? 0) : 0;
    if (c < ZERO || c > NINE) {
      return NaN;
    }
    while (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      // Leading zeros (0.000…) are no significant digits.
      digits += mantissa === 0 ? 0 : 1;
      scale -= 1;
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
      return NaN;
    }
    let exponent = 0;
    while (c >= ZERO && c <= NINE) {
      // Capped: so large an exponent is out of the exact range either way, and Number reads the text.
      exponent = Math.min(exponent * 10 + (c - ZERO), 1e6);
      i += 1;
      c = i < n ? (bytes[i] ?? 0) : 0;
    }
    scale += sign * exponent;
  }
  cursor = i;
  if (digits > EXACT_DIGITS || scale < -22 || scale > 22) {
    // Converting its text one number at a time costs twice what JSON.parse takes for the whole list.
    return NaN;
  }
  const value = scale < 0 ? mantissa / (EXACT_POWERS[-scale] ?? 1) : mantissa * (EXACT_POWERS[scale] ?? 1);
  return negative ? -value : value;
}

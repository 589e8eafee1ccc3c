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
/** Significant digits whose value always fits an int32 (below 10^9): the engine adds them up as integers. */
const INT_DIGITS = 9;

/**
 * The values read so far go here first, kept between reads on this thread up to `KEPT_ROOM` values: a read copies
 * out only its own values, where growing fresh room by doubling for each read left 2.5 times its size in garbage
 * (under load, pauses of a pool thread for external memory).
 */
let room = new Float32Array(1024);
/** Values of room kept between reads (16 MiB). */
const KEPT_ROOM = 1 << 22;

/**
 * Reads the UTF-8 text of a JSON nested list of numbers (`[[0.5, 1e-3], [2, -4]]`) straight into a row-major float32
 * tensor, with the values `JSON.parse` and a Float32Array would give: a number of up to 15 significant digits and
 * an exponent within ±22 is one exact scaling of its digits, correctly rounded (Clinger's fast path); a longer one
 * (a double as Python and JavaScript print it) is an estimate whose float32 is certain unless it lies within a hair
 * of a rounding boundary (`nearFloat32`), where its text is converted exactly. Short numbers (`readShortNumber`) are
 * read with integer arithmetic, inlined. Measured on 64 MNIST-sized samples: 1.0 ms for numbers of 4 decimals (373
 * KB) where `JSON.parse` alone takes 1.9 ms, before any walk of its arrays; 2.9 ms for float32 values printed as
 * doubles (970 KB). Undefined for anything else (a string, `null`, an object, an empty or ragged list, a malformed
 * number, a number beyond a double, more than `limits.maxElements` numbers or `MAX_RANK` levels): the caller then
 * parses it the usual way, which reads it or refuses it in the usual words.
 */
export function parseNumberList(bytes: Uint8Array, limits: InputLimits): FloatTensor | undefined {
  const n = bytes.length;
  // Every number takes a byte and a comma after it, at least: room grows by doubling up to that.
  const capacity = Math.min((n >> 1) + 1, limits.maxElements);
  let data = room.length > capacity ? room.subarray(0, capacity) : room;
  let count = 0;
  /** Items of the first list closed at each depth (the shape), 0 until it closes; items so far in the open ones. */
  const dims = new Int32Array(MAX_RANK);
  const items = new Int32Array(MAX_RANK);
  let leafDepth = -1;
  /** `count` when the innermost open list opened. */
  let leafStart = 0;
  let short = true;
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
      leafStart = count;
      i = skipJsonSpace(bytes, i + 1);
      continue;
    }
    if (depth === 0 || (leafDepth >= 0 && depth !== leafDepth)) {
      return undefined;
    }
    leafDepth = depth;
    // The numbers of an innermost list, one after another: counted by `count`, not per item.
    let after: number | undefined;
    for (;;) {
      if (count === data.length) {
        if (count === capacity) {
          return undefined;
        }
        const larger = new Float32Array(Math.min(capacity, 2 * count));
        larger.set(data);
        data = larger;
        if (larger.length <= KEPT_ROOM) {
          room = larger;
        }
      }
      // The short reader first while the numbers are short; the full one alone while they are long.
      let end: number = short ? readShortNumber(bytes, i, data, count) : -1;
      if (end < 0) {
        end = readNumber(bytes, i, data, count);
        short = end - i <= SHORT_TEXT;
      }
      // Malformed, or too large for a double (Infinity): the usual parser names where it is.
      if (end < 0) {
        return undefined;
      }
      count += 1;
      after = bytes[end];
      if (after === COMMA) {
        // Most lists put nothing or one space after a comma.
        i = end + 1;
        if ((bytes[i] ?? 0) <= 0x20) {
          i = skipJsonSpace(bytes, i);
        }
        continue;
      }
      i = skipJsonSpace(bytes, end);
      after = bytes[i];
      if (after !== COMMA) {
        break;
      }
      i = skipJsonSpace(bytes, i + 1);
    }
    if (after !== CLOSE) {
      return undefined;
    }
    // The innermost list ends, then perhaps the lists around it; after each, a comma and the next list, or the end.
    let closed = count - leafStart;
    for (;;) {
      const list = depth - 1;
      if (dims[list] === 0) {
        dims[list] = closed;
      } else if (dims[list] !== closed) {
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
          // Copied out of the room, which the next read on this thread reuses.
          data: data.slice(0, count),
        };
      }
      const outer = depth - 1;
      items[outer] = (items[outer] ?? 0) + 1;
      after = bytes[i];
      if (after === COMMA) {
        i = skipJsonSpace(bytes, i + 1);
        break;
      }
      if (after !== CLOSE) {
        return undefined;
      }
      closed = items[outer] ?? 0;
    }
  }
  return undefined;
}

/** The longest text of a short number (`readShortNumber`): a minus, `INT_DIGITS` digits and a dot. */
const SHORT_TEXT = INT_DIGITS + 2;

/**
 * `readNumber` for the most common numbers, small enough to be inlined: an optional minus, up to `INT_DIGITS`
 * digits in all with or without a fraction, no exponent. Answers -1 for any other text (longer, an exponent, or
 * malformed), which `readNumber` then reads or refuses.
 */
function readShortNumber(bytes: Uint8Array, from: number, out: Float32Array, at: number): number {
  let i = from;
  let c = bytes[i] ?? 0;
  const negative = c === MINUS;
  if (negative) {
    i += 1;
    c = bytes[i] ?? 0;
  }
  let value = 0;
  let digits = 0;
  if (c === ZERO) {
    i += 1;
    c = bytes[i] ?? 0;
  } else if (c > ZERO && c <= NINE) {
    do {
      if (++digits > INT_DIGITS) {
        return -1;
      }
      value = value * 10 + (c - ZERO);
      i += 1;
      c = bytes[i] ?? 0;
    } while (c >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  let fraction = 0;
  if (c === DOT) {
    i += 1;
    c = bytes[i] ?? 0;
    while (c >= ZERO && c <= NINE) {
      if (++digits > INT_DIGITS) {
        return -1;
      }
      value = value * 10 + (c - ZERO);
      fraction += 1;
      i += 1;
      c = bytes[i] ?? 0;
    }
    // A bare dot: readNumber refuses it.
    if (fraction === 0) {
      return -1;
    }
  }
  // A leading zero (refused there) or an exponent (read there).
  if ((c >= ZERO && c <= NINE) || c === LOWER_E || c === UPPER_E) {
    return -1;
  }
  const magnitude = value / (EXACT_POWERS[fraction] ?? 1);
  out[at] = negative ? -magnitude : magnitude;
  return i;
}

/**
 * Reads the JSON number starting at `from` into `out[at]` (as a Float32Array stores what `JSON.parse` reads) and
 * answers the index after it; -1 when none starts there, it breaks JSON's grammar (a leading zero, a bare dot, an
 * exponent without digits) or is too large for a double. It stores rather than returns the value: a double returned
 * from a function the engine does not inline is a heap object, one per number, and garbage to collect.
 */
function readNumber(bytes: Uint8Array, from: number, out: Float32Array, at: number): number {
  let i = from;
  let c = bytes[i] ?? 0;
  const negative = c === MINUS;
  if (negative) {
    i += 1;
    c = bytes[i] ?? 0;
  }
  if (c < ZERO || c > NINE) {
    return -1;
  }
  // The first KEPT_DIGITS significant digits, and the power of ten they are scaled by: the first INT_DIGITS added up
  // as an integer, the rest apart, joined exactly up to EXACT_DIGITS.
  let small = 0;
  let rest = 0;
  let digits = 0;
  let scale = 0;
  if (c === ZERO) {
    i += 1;
    c = bytes[i] ?? 0;
    if (c >= ZERO && c <= NINE) {
      return -1;
    }
  } else {
    while (c >= ZERO && c <= NINE) {
      if (digits < INT_DIGITS) {
        small = small * 10 + (c - ZERO);
        digits += 1;
      } else if (digits < KEPT_DIGITS) {
        rest = rest * 10 + (c - ZERO);
        digits += 1;
      } else {
        scale += 1;
      }
      i += 1;
      c = bytes[i] ?? 0;
    }
  }
  if (c === DOT) {
    i += 1;
    c = bytes[i] ?? 0;
    if (c < ZERO || c > NINE) {
      return -1;
    }
    while (c >= ZERO && c <= NINE) {
      if (digits < INT_DIGITS) {
        small = small * 10 + (c - ZERO);
        // Leading zeros (0.000…) are no significant digits.
        digits += small === 0 ? 0 : 1;
        scale -= 1;
      } else if (digits < KEPT_DIGITS) {
        rest = rest * 10 + (c - ZERO);
        digits += 1;
        scale -= 1;
      }
      i += 1;
      c = bytes[i] ?? 0;
    }
  }
  if (c === LOWER_E || c === UPPER_E) {
    i += 1;
    c = bytes[i] ?? 0;
    let sign = 1;
    if (c === MINUS || c === PLUS) {
      sign = c === MINUS ? -1 : 1;
      i += 1;
      c = bytes[i] ?? 0;
    }
    if (c < ZERO || c > NINE) {
      return -1;
    }
    let exponent = 0;
    while (c >= ZERO && c <= NINE) {
      // Capped: so large an exponent is out of every fast range, and Number reads the text.
      exponent = Math.min(exponent * 10 + (c - ZERO), 1e6);
      i += 1;
      c = bytes[i] ?? 0;
    }
    scale += sign * exponent;
  }
  const mantissa = digits <= INT_DIGITS ? small : small * (EXACT_POWERS[digits - INT_DIGITS] ?? 1) + rest;
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
 * cannot be told without the exact conversion. The estimate, made in at most four roundings of a double (joining the
 * mantissa's two parts, then one or two scalings by exact powers of ten), is within 2^-49 of the true
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

/**
 * float16 and bfloat16 conversions. Both formats are subsets of float32, so widening is exact; narrowing goes
 * float64 -> float32 -> half, which rounds correctly because float32 carries more than twice the half formats'
 * precision plus two bits (no double-rounding error).
 */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The float32 value of a float16 bit pattern. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) {
    return sign * mantissa * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return mantissa === 0 ? sign * Infinity : NaN;
  }
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The float16 bit pattern nearest to `value` (round half to even; overflow gives Inf). */
export function numberToFloat16(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent32 = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent32 === 0xff) {
    return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  }
  const exponent = exponent32 - 127 + 15;
  if (exponent >= 0x1f) {
    return sign | 0x7c00;
  }
  if (exponent <= 0) {
    // Subnormal in float16: shift the full 24-bit significand down to a multiple of 2^-24.
    if (exponent < -10) {
      return sign;
    }
    return sign | roundShift(mantissa | 0x800000, 14 - exponent);
  }
  // A carry out of the mantissa bumps the exponent, which is exactly the right result (up to Inf).
  return (sign | (exponent << 10)) + roundShift(mantissa, 13);
}

/** The float32 value of a bfloat16 bit pattern. */
export function bfloat16ToNumber(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratch[0] ?? 0;
}

/** The bfloat16 bit pattern nearest to `value` (round half to even). */
export function numberToBfloat16(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0] ?? 0;
  if ((bits & 0x7fffffff) > 0x7f800000) {
    return ((bits >>> 16) | 0x40) & 0xffff;
  }
  return roundShift(bits, 16) & 0xffff;
}

/** `value >>> shift`, rounded half to even. */
function roundShift(value: number, shift: number): number {
  const kept = Math.floor(value / 2 ** shift);
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && kept % 2 === 1) ? kept + 1 : kept;
}

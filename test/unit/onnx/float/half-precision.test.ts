import {
  bfloat16ToNumber,
  float16ToNumber,
  numberToBfloat16,
  numberToFloat16,
} from '../../../../src/onnx/float/half-precision';

/** The representable neighbours of a positive finite half value, found by brute force over all bit patterns. */
const HALVES = Array.from({ length: 0x7c00 }, (_, bits) => ({ bits, value: float16ToNumber(bits) }));

describe('float16 and bfloat16 conversion', () => {
  it('when every finite float16 bit pattern is widened and narrowed again, the bits come back', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) !== 0x7c00) {
        expect(numberToFloat16(float16ToNumber(bits))).toBe(bits);
      }
    }
  });

  it('when a value lies between two halves, it rounds to the nearer one, ties to the even one', () => {
    for (let bits = 0; bits < 0x7bff; bits += 97) {
      const low = HALVES[bits]?.value ?? NaN;
      const high = HALVES[bits + 1]?.value ?? NaN;
      const mid = (low + high) / 2;
      expect(numberToFloat16(low + (high - low) * 0.25)).toBe(bits);
      expect(numberToFloat16(low + (high - low) * 0.75)).toBe(bits + 1);
      expect(numberToFloat16(mid)).toBe(bits % 2 === 0 ? bits : bits + 1);
    }
  });

  it('when values fall outside the float16 range, they give Inf, zero, or NaN as IEEE says', () => {
    expect(numberToFloat16(65520)).toBe(0x7c00);
    expect(numberToFloat16(65519)).toBe(0x7bff);
    expect(numberToFloat16(-1e9)).toBe(0xfc00);
    expect(numberToFloat16(2 ** -26)).toBe(0);
    expect(numberToFloat16(2 ** -25 * 1.5)).toBe(1);
    expect(Number.isNaN(float16ToNumber(numberToFloat16(NaN)))).toBe(true);
    expect(float16ToNumber(0x7c00)).toBe(Infinity);
  });

  it('when bfloat16 values are narrowed, they round to nearest even and keep NaN a NaN', () => {
    expect(numberToBfloat16(1)).toBe(0x3f80);
    expect(bfloat16ToNumber(numberToBfloat16(1 + 2 ** -8))).toBe(1);
    expect(bfloat16ToNumber(numberToBfloat16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
    expect(bfloat16ToNumber(numberToBfloat16(1 + 2 ** -8 + 2 ** -20))).toBe(1 + 2 ** -7);
    expect(bfloat16ToNumber(numberToBfloat16(-3.140625))).toBe(-3.140625);
    expect(Number.isNaN(bfloat16ToNumber(numberToBfloat16(NaN)))).toBe(true);
    expect(bfloat16ToNumber(numberToBfloat16(3.5e38))).toBe(Infinity);
  });
});

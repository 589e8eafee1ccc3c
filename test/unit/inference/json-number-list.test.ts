import { DEFAULT_INPUT_LIMITS } from '../../../src/inference/input/input-limits';
import { parseNumberList } from '../../../src/inference/input/json-number-list';
import { decodeModelInput } from '../../../src/inference/input/model-input';
import { refusal } from './helpers/inputs';

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** What the body's JSON used to be decoded to: JSON.parse, then the nested-list decoder (or JSON.parse's refusal). */
function viaJsonParse(text: string, shape?: unknown): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'bad JSON';
  }
  return outcome(() => decodeModelInput({ kind: 'json', value, shape }));
}

/** The decoded tensor (values by their bits, so -0 and 0 differ), or the refusal. */
function outcome(decode: () => ReturnType<typeof decodeModelInput>): unknown {
  let decoded: ReturnType<typeof decodeModelInput> | undefined;
  const refused = refusal(() => {
    decoded = decode();
  });
  if (decoded === undefined) {
    return refused;
  }
  return { dims: decoded.tensor.dims, bits: Array.from(new Uint32Array(decoded.tensor.data.buffer)) };
}

function viaText(text: string, shape?: unknown): unknown {
  const decoded = outcome(() => decodeModelInput({ kind: 'json-text', bytes: bytes(text), shape }));
  return typeof decoded === 'object' && decoded !== null && 'reason' in decoded && decoded.reason === 'bad_json'
    ? 'bad JSON'
    : decoded;
}

/** A small deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseNumberList', () => {
  it('reads a nested list of numbers into its shape and float32 values', () => {
    expect(parseNumberList(bytes(' [[0.5, -1e-3] ,\n[2, 40E+1]] '.trim()), DEFAULT_INPUT_LIMITS)).toEqual({
      dims: [2, 2],
      data: Float32Array.from([0.5, -1e-3, 2, 400]),
    });
    expect(parseNumberList(bytes('[[[[7]]]]'), DEFAULT_INPUT_LIMITS)?.dims).toEqual([1, 1, 1, 1]);
  });

  it('reads every number of up to 15 digits to the double JSON.parse gives: exponents, zeros, signs', () => {
    const next = random(23);
    const numbers = [
      '0',
      '-0',
      '-0.0',
      '0e0',
      '1E+2',
      '1e-7',
      '0.1',
      '-2.5e-21',
      '4.5e22',
      '0.000000000000000000001',
      '999999999999999',
      '-123456789012345e-22',
      ...Array.from({ length: 3000 }, (_, i) => {
        // Magnitudes 1e-8 to 1e7: with 14 digits at most, the exponent stays within the exact range.
        const value = (next() < 0.5 ? -1 : 1) * (0.1 + 0.9 * next()) * 10 ** Math.floor(next() * 15 - 7);
        return i % 2 === 0 ? value.toFixed(Math.floor(next() * 6)) : value.toPrecision(1 + Math.floor(next() * 14));
      }),
    ];
    const text = `[${numbers.join(',')}]`;
    const fast = parseNumberList(bytes(text), DEFAULT_INPUT_LIMITS);
    expect(fast).toBeDefined();
    expect(Array.from(new Uint32Array(fast!.data.buffer))).toEqual(
      Array.from(new Uint32Array(Float32Array.from(JSON.parse(text) as number[]).buffer)),
    );
  });

  it('reads long numbers (as Python and JavaScript print doubles) to the same float32 as JSON.parse', () => {
    const next = random(7);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const numbers: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const magnitude = 10 ** Math.floor(next() * 60 - 30);
      const value = (next() < 0.5 ? -1 : 1) * next() * magnitude;
      // A float32 printed as a double (torch's .tolist() then json.dumps), and a double printed whole.
      numbers.push(String(Math.fround(value)), String(value), value.toExponential(18));
      // Exact midpoints between two float32 values, and a hair either side: the cases an estimate cannot settle.
      f32[0] = Math.abs(value) || 1;
      const low = f32[0];
      u32[0] = (u32[0] ?? 0) + 1;
      const midpoint = (low + (f32[0] ?? 0)) / 2;
      numbers.push(String(midpoint), String(midpoint * (1 + 2 ** -50)), String(midpoint * (1 - 2 ** -50)));
    }
    numbers.push(
      '0.30000000000000004',
      '9007199254740993',
      '123456789012345678901234567890',
      '0.1000000000000000055511151231257827021181583404541015625',
      '3.4028234663852886e38',
      '3.4028235677973366e38',
      '1.1754943508222875e-38',
      '1.401298464324817e-45',
      '7e-46',
      '5e-324',
      '-0e-30',
      '1e39',
      '4.5e23',
    );
    const text = `[${numbers.join(',')}]`;
    const fast = parseNumberList(bytes(text), DEFAULT_INPUT_LIMITS);
    expect(fast).toBeDefined();
    const expected = Float32Array.from(JSON.parse(text) as number[]);
    const differing = numbers.filter((_, i) => !Object.is(fast!.data[i], expected[i]));
    expect(differing).toEqual([]);
  });

  it('reads runs of short and long numbers, each switching readers, as JSON.parse does', () => {
    const next = random(11);
    const short = [
      '0',
      '-0',
      '7',
      '-0.5',
      '123456789',
      '-12345678.9',
      '0.000000001',
      '0.00000000',
      '1.5',
      '9.87654321',
    ];
    const long = [
      '1234567890',
      '-0.1234567891',
      '0.30000000000000004',
      '1e5',
      '-2.5E-3',
      '0.0000000001',
      '12345678.90',
    ];
    const numbers: string[] = [];
    for (let run = 0; run < 400; run++) {
      const pool = run % 2 === 0 ? short : long;
      for (let k = Math.floor(next() * 5); k >= 0; k--) {
        numbers.push(pool[Math.floor(next() * pool.length)] ?? '0');
      }
    }
    const text = `[${numbers.join(', ')}]`;
    const fast = parseNumberList(bytes(text), DEFAULT_INPUT_LIMITS);
    expect(fast).toBeDefined();
    expect(Array.from(new Uint32Array(fast!.data.buffer))).toEqual(
      Array.from(new Uint32Array(Float32Array.from(JSON.parse(text) as number[]).buffer)),
    );
  });

  it.each([
    ['an empty list', '[]'],
    ['an empty inner list', '[[], []]'],
    ['a ragged list', '[[1, 2], [3]]'],
    ['a number beside a list', '[[1, 2], 3]'],
    ['a list beside a number', '[1, [2]]'],
    ['lists of unequal depth', '[[[1]], [2]]'],
    ['a string', '[1, "2"]'],
    ['null', '[1, null]'],
    ['true', '[true]'],
    ['an object', '[{"a": 1}]'],
    ['a leading zero', '[01]'],
    ['a bare dot', '[1.]'],
    ['a leading dot', '[.5]'],
    ['a leading dot after a minus', '[-.5]'],
    ['a bare minus', '[1, -]'],
    ['a bare dot after a zero', '[0.]'],
    ['a leading zero after a minus', '[-01]'],
    ['an exponent after a bare dot', '[1.e5]'],
    ['a plus sign', '[+1]'],
    ['an exponent without digits', '[1e]'],
    ['NaN', '[NaN]'],
    ['Infinity', '[-Infinity]'],
    ['a number too large for a double', '[1e400]'],
    ['a trailing comma', '[1, 2,]'],
    ['a missing comma', '[1 2]'],
    ['trailing text', '[1] 2'],
    ['an unclosed list', '[[1, 2]'],
    ['nine levels', '[[[[[[[[[1]]]]]]]]]'],
    ['not a list', '1'],
  ])('declines %s, for the usual parser', (_, text) => {
    expect(parseNumberList(bytes(text), DEFAULT_INPUT_LIMITS)).toBeUndefined();
  });

  it('declines more numbers than the limit allows', () => {
    expect(parseNumberList(bytes('[1, 2, 3]'), { ...DEFAULT_INPUT_LIMITS, maxElements: 2 })).toBeUndefined();
    expect(parseNumberList(bytes('[1, 2]'), { ...DEFAULT_INPUT_LIMITS, maxElements: 2 })?.data).toHaveLength(2);
  });

  it('answers each list in memory of its own, though reads reuse their room', () => {
    const long = parseNumberList(
      bytes(JSON.stringify(Array.from({ length: 3000 }, (_, i) => i))),
      DEFAULT_INPUT_LIMITS,
    );
    const first = parseNumberList(bytes('[1, 2, 3]'), DEFAULT_INPUT_LIMITS);
    const second = parseNumberList(bytes('[[4], [5]]'), DEFAULT_INPUT_LIMITS);
    expect(first?.data).toEqual(Float32Array.from([1, 2, 3]));
    expect(second).toEqual({ dims: [2, 1], data: Float32Array.from([4, 5]) });
    expect(long?.data[2999]).toBe(2999);
    expect(new Set([long?.data.buffer, first?.data.buffer, second?.data.buffer]).size).toBe(3);
    expect(first?.data.buffer.byteLength).toBe(12);
  });

  it('grows its room for a long list', () => {
    const values = Array.from({ length: 5000 }, (_, i) => i / 8);
    expect(parseNumberList(bytes(JSON.stringify([values])), DEFAULT_INPUT_LIMITS)).toEqual({
      dims: [1, 5000],
      data: Float32Array.from(values),
    });
  });
});

describe('decodeModelInput of a kept list text', () => {
  it.each([
    ['[[1, 2.5], [-3, 4e-2]]', undefined],
    ['[[1, 2.5], [-3, 4e-2]]', [4]],
    ['[[1, 2.5], [-3, 4e-2]]', '[1, 4]'],
    ['[[1, 2.5], [-3, 4e-2]]', [3]],
    ['[[1, 2.5], [-3, 4e-2]]', 'x'],
    ['[[1, 2], [3]]', undefined],
    ['[[1, 2], [3, "4"]]', undefined],
    ['[[1, 2], [3, null]]', undefined],
    ['[1e39, 1]', undefined],
    ['[0.30000000000000004, 5e-324, 1.7976931348623157e308]', undefined],
    ['[0.30000000000000004, 1e400]', undefined],
    ['[1e400, 1]', undefined],
    ['[]', undefined],
    ['[[]]', undefined],
    ['[01]', [1]],
    ['[1, 2', 'x'],
    ['[[[[[[[[[1]]]]]]]]]', undefined],
  ])('decodes or refuses %s (shape %j) as JSON.parse and the nested-list decoder do', (text, shape) => {
    expect(viaText(text, shape)).toEqual(viaJsonParse(text, shape));
  });
});

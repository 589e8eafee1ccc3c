import { writeSafetensors } from '../../../src/aggregation/safetensors';
import { decodeBase64, decodeBase64Bytes } from '../../../src/inference/input/base64';
import { decodeModelInput } from '../../../src/inference/input/model-input';
import { decodeRawFloat32 } from '../../../src/inference/input/raw-float32';
import { DEFAULT_INPUT_LIMITS } from '../../../src/inference/input/input-limits';
import { bytesOf, npy, refusal, safetensorsOf } from './helpers/inputs';

const file = (bytes: Uint8Array) => ({ kind: 'file', bytes, filename: 'input.bin' }) as const;
const values = [1.5, -2, 0, 3.25, 1e-3, 42];

describe('decodeModelInput: base64 float32', () => {
  const base64 = Buffer.from(bytesOf(Float32Array.from(values))).toString('base64');

  it('when a JSON string holds base64 float32 and shape is a list, it decodes to those values', () => {
    const decoded = decodeModelInput({ kind: 'json', value: base64, shape: [2, 3] });
    expect(decoded).toEqual({ kind: 'tensor', tensor: { dims: [2, 3], data: Float32Array.from(values) } });
  });

  it('when a form field holds base64 wrapped over lines and shape is a JSON string, it decodes', () => {
    const wrapped = `${base64.slice(0, 10)}\n${base64.slice(10)}`;
    expect(decodeModelInput({ kind: 'form', value: wrapped, shape: '[3, 2]' }).tensor.dims).toEqual([3, 2]);
  });

  it('when the byte count does not fit the shape, both numbers are named', () => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value: base64, shape: [2, 2] }))).toMatchObject({
      status: 400,
      reason: 'byte_count',
      message: 'Model input has 24 bytes, but shape [2, 2] needs 16 (4 bytes per float32).',
    });
  });

  it('when base64 that is not an image comes without shape, the shape field is asked for', () => {
    expect(refusal(() => decodeModelInput({ kind: 'form', value: base64 }))).toMatchObject({
      reason: 'shape_required',
      message:
        "Model input is base64 but not a PNG or JPEG image: send its dimensions in the 'shape' field to read it as little-endian float32.",
    });
  });

  it.each([
    ['a character outside the alphabet', 'AAAA$AAA', '"$" at position 4 is not in the base64 alphabet.'],
    ['padding in the middle', 'AA==AAAA', 'the padding "=" at position 2 is not at the end.'],
    ['an impossible length', 'AAAAA', '5 characters cannot be base64.'],
  ])('when the text has %s, it is refused as bad base64', (_, value, text) => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value, shape: [1] }))).toMatchObject({
      reason: 'bad_base64',
      message: `Model input is neither a JSON list nor valid base64: ${text}`,
    });
  });

  it('when the string arrives as its kept JSON text, it decodes as the parsed string would, and so does its refusal', () => {
    const text = (json: string) => ({ kind: 'json-text', bytes: Buffer.from(json), shape: [2, 3] }) as const;
    expect(decodeModelInput(text(`"${base64}"`))).toEqual(
      decodeModelInput({ kind: 'json', value: base64, shape: [2, 3] }),
    );
    // Escapes and control characters go through JSON.parse: a tab in a string is no JSON.
    expect(decodeModelInput(text(`"${base64.slice(0, 4)}\\n${base64.slice(4)}"`)).tensor.dims).toEqual([2, 3]);
    expect(refusal(() => decodeModelInput(text(`"AAAA\tAAAA"`)))).toMatchObject({ reason: 'bad_json' });
    expect(refusal(() => decodeModelInput(text('"AAAA$AAA"')))).toMatchObject({
      reason: 'bad_base64',
      message: 'Model input is neither a JSON list nor valid base64: "$" at position 4 is not in the base64 alphabet.',
    });
  });

  it('when kept JSON text of every length and padding is decoded from its bytes, it gives what the string gives', () => {
    const text = (json: string, shape: number[]) => ({ kind: 'json-text', bytes: Buffer.from(json), shape }) as const;
    for (let count = 1; count <= 7; count++) {
      const floats = Float32Array.from({ length: count }, (_, k) => k * 1.25 - 3);
      const encoded = Buffer.from(bytesOf(floats)).toString('base64');
      for (const value of [encoded, encoded.replace(/=+$/, '')]) {
        expect(decodeModelInput(text(`"${value}"`, [count]))).toEqual(
          decodeModelInput({ kind: 'json', value, shape: [count] }),
        );
      }
    }
    // A text refused is refused in the same words whichever way it is read.
    for (const value of ['AAAAA', 'AA==AAAA', 'AAA==', 'A===', 'AAAA=', '=AAA']) {
      expect(refusal(() => decodeModelInput(text(`"${value}"`, [1])))).toEqual(
        refusal(() => decodeModelInput({ kind: 'json', value, shape: [1] })),
      );
    }
  });

  it('decodes base64 bytes as Node decodes the same text, and leaves anything but the bare alphabet to decodeBase64', () => {
    const ascii = (value: string) => Buffer.from(value, 'latin1');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let length = 1; length <= 40; length++) {
      const raw = Buffer.from(Array.from({ length }, (_, k) => (k * 37 + length * 11) % 256));
      const encoded = raw.toString('base64');
      for (const value of [encoded, encoded.replace(/=+$/, '')]) {
        expect(Buffer.from(decodeBase64Bytes(ascii(`"${value}"`), 1, value.length + 1) ?? [])).toEqual(raw);
      }
    }
    // Unused low bits set in the last character are dropped, as Node drops them.
    for (const value of ['QR==', 'QR', 'QUJ=', 'QUJ', alphabet]) {
      expect(Buffer.from(decodeBase64Bytes(ascii(value), 0, value.length) ?? [])).toEqual(
        Buffer.from(decodeBase64(value)),
      );
    }
    for (const value of [
      '',
      'A',
      'AAAAA',
      'AAAA AAAA',
      'AAAA\nAAA',
      'AA-_',
      'AA==AAAA',
      'AAA==',
      'A===',
      '====',
      'AAAA=',
      'ÿÿAA',
    ]) {
      expect(decodeBase64Bytes(ascii(value), 0, value.length)).toBeUndefined();
    }
  });

  it('answers no bytes for a text with any byte outside the alphabet, or "=" anywhere but its last two places', () => {
    // Node's decoder passes over strays and reads "-" and "_": the decoded length has to tell every one of them.
    const isAlphabet = (byte: number) => /[A-Za-z0-9+/]/.test(String.fromCharCode(byte));
    for (const length of [4, 7, 8, 12, 15, 16]) {
      const clean = Buffer.from(
        Buffer.from(Array.from({ length: 16 }, (_, k) => (k * 53 + length) % 256))
          .toString('base64')
          .replace(/=+$/, '')
          .slice(0, length),
        'latin1',
      );
      expect(decodeBase64Bytes(clean, 0, clean.length)).toBeDefined();
      for (let at = 0; at < length; at++) {
        for (let byte = 0; byte < 256; byte++) {
          if (isAlphabet(byte)) {
            continue;
          }
          const replaced = Buffer.from(clean);
          replaced[at] = byte;
          const inserted = Buffer.concat([clean.subarray(0, at), Buffer.of(byte), clean.subarray(at)]);
          const padTail = byte === 0x3d && at >= length - 2;
          if (!padTail) {
            expect(decodeBase64Bytes(replaced, 0, replaced.length)).toBeUndefined();
          }
          if (byte !== 0x3d) {
            expect(decodeBase64Bytes(inserted, 0, inserted.length)).toBeUndefined();
          }
        }
      }
    }
  });

  it('takes over bytes that are the whole of their memory, and copies a view into shared memory', () => {
    const owned = bytesOf(Float32Array.from(values));
    expect(owned.byteOffset === 0 && owned.buffer.byteLength === owned.byteLength).toBe(true);
    const taken = decodeRawFloat32(owned, [2, 3], DEFAULT_INPUT_LIMITS);
    expect(taken.data.buffer).toBe(owned.buffer);
    expect(taken.data).toEqual(Float32Array.from(values));
    // A view of part of a larger buffer (Node's pool holds small Buffers so): the tensor has memory of its own.
    const shared = new Uint8Array(4 + owned.length);
    shared.set(owned, 4);
    const view = shared.subarray(4);
    const copied = decodeRawFloat32(view, [6], DEFAULT_INPUT_LIMITS);
    expect(copied.data.buffer).not.toBe(shared.buffer);
    copied.data[0] = 99;
    expect(decodeRawFloat32(view, [6], DEFAULT_INPUT_LIMITS).data).toEqual(Float32Array.from(values));
    const atStart = decodeRawFloat32(shared.subarray(0, 24), [6], DEFAULT_INPUT_LIMITS);
    expect(atStart.data.buffer).not.toBe(shared.buffer);
  });

  it('when the float32 values include infinity, they are refused', () => {
    const value = Buffer.from(bytesOf(Float32Array.from([1, Infinity]))).toString('base64');
    expect(refusal(() => decodeModelInput({ kind: 'json', value, shape: [2] }))).toMatchObject({
      reason: 'not_numeric',
      message: 'Model input holds Infinity at element 1; only finite numbers are accepted.',
    });
  });
});

describe('decodeModelInput: .npy files', () => {
  it.each([
    ['<f4 (format 1.0)', '<f4', bytesOf(Float32Array.from(values)), {}],
    ['<f4 (format 2.0)', '<f4', bytesOf(Float32Array.from(values)), { version: 2 }],
    ['<f4 (format 3.0)', '<f4', bytesOf(Float32Array.from(values)), { version: 3 }],
    ['<f8', '<f8', bytesOf(Float64Array.from(values)), {}],
    ['>f4', '>f4', Buffer.concat(values.map(bigEndianF32)), {}],
  ] as const)('when the file is %s, it decodes to the same values', (_, descr, payload, options) => {
    const decoded = decodeModelInput(file(npy(descr, [2, 3], payload, options)));
    expect(decoded).toEqual({ kind: 'tensor', tensor: { dims: [2, 3], data: Float32Array.from(values) } });
  });

  it.each([
    ['|u1', Uint8Array.from([0, 1, 128, 255]), [0, 1, 128, 255]],
    ['|i1', bytesOf(Int8Array.from([-128, -1, 0, 127])), [-128, -1, 0, 127]],
    ['<i2', bytesOf(Int16Array.from([-300, 0, 7, 32767])), [-300, 0, 7, 32767]],
    ['<u2', bytesOf(Uint16Array.from([0, 1, 65535, 9])), [0, 1, 65535, 9]],
    ['<i4', bytesOf(Int32Array.from([-70000, 0, 1, 5])), [-70000, 0, 1, 5]],
    ['<u4', bytesOf(Uint32Array.from([0, 4000000000, 1, 2])), [0, 4000000000, 1, 2]],
    ['<i8', bytesOf(BigInt64Array.from([-5n, 0n, 1n, 1n << 40n])), [-5, 0, 1, 2 ** 40]],
    ['<f2', bytesOf(Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x0001])), [1, -2, 0.5, 2 ** -24]],
    ['|b1', Uint8Array.from([0, 1, 1, 0]), [0, 1, 1, 0]],
  ])('when the file is %s, it is converted to float32', (descr, payload, expected) => {
    const decoded = decodeModelInput(file(npy(descr, [4], payload)));
    expect(decoded.tensor.dims).toEqual([4]);
    expect(Array.from(decoded.tensor.data)).toEqual(expected);
  });

  it('when the file is in Fortran order, it is transposed to row-major', () => {
    const dims = [2, 3, 4];
    const columnMajor: number[] = [];
    for (let k = 0; k < 4; k++) {
      for (let j = 0; j < 3; j++) {
        for (let i = 0; i < 2; i++) {
          columnMajor.push(100 * i + 10 * j + k);
        }
      }
    }
    const decoded = decodeModelInput(
      file(npy('<f4', dims, bytesOf(Float32Array.from(columnMajor)), { fortranOrder: true })),
    );
    const rowMajor = [0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => [0, 1, 2, 3].map((k) => 100 * i + 10 * j + k)));
    expect(decoded.tensor.dims).toEqual(dims);
    expect(Array.from(decoded.tensor.data)).toEqual(rowMajor);
  });

  const f4 = bytesOf(Float32Array.from(values));
  it.each([
    [
      'an unknown magic',
      Buffer.concat([Buffer.from('\x93NUMPX\x01\x00', 'latin1'), f4]),
      'unknown_format',
      'Model input file "input.bin" is not a .npy, safetensors, PNG or JPEG file (recognised by its content, not its name).',
    ],
    [
      'format version 4',
      Buffer.from(npy('<f4', [6], f4)).fill(4, 6, 7),
      'npy_malformed',
      'Model input is not a valid .npy file: format version 4.0 is not supported (1.0, 2.0 and 3.0 are).',
    ],
    [
      'a header without shape',
      npy('<f4', [6], f4, { header: "{'descr': '<f4', 'fortran_order': False}" }),
      'npy_malformed',
      `Model input is not a valid .npy file: the header is not a dict with 'descr', 'fortran_order' and 'shape': "{'descr': '<f4', 'fortran_order': False}".`,
    ],
    [
      'a structured dtype',
      npy('', [6], f4, { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }" }),
      'npy_malformed',
      "Model input is not a valid .npy file: the header's 'descr' is not a string (structured dtypes are not supported).",
    ],
    [
      'a header longer than the file',
      npy('<f4', [6], f4).subarray(0, 40),
      'npy_malformed',
      'Model input is not a valid .npy file: the header claims 118 bytes, but the file has 30 after it.',
    ],
    [
      'a complex dtype',
      npy('<c8', [3], f4),
      'npy_dtype',
      'Model input .npy has dtype "<c8"; supported are float16/32/64, (u)int8/16/32/64 and bool.',
    ],
    [
      'a string dtype',
      npy('<U3', [2], f4),
      'npy_dtype',
      'Model input .npy has dtype "<U3"; supported are float16/32/64, (u)int8/16/32/64 and bool.',
    ],
    [
      'an object array',
      npy('|O', [2], Buffer.from('\x80\x04\x95', 'latin1')),
      'npy_dtype',
      'Model input .npy holds an object array: pickled object arrays are not accepted.',
    ],
    [
      'truncated data',
      npy('<f4', [2, 3], f4.subarray(0, 20)),
      'npy_malformed',
      'Model input is not a valid .npy file: it has 20 data bytes, but shape (2, 3) of <f4 needs 24.',
    ],
    [
      'a huge shape',
      npy('<f4', [100000, 100000], f4),
      'too_large',
      'Model input has 10000000000 elements (shape [100000, 100000]); at most 16777216 are accepted.',
    ],
    [
      'a zero dimension',
      npy('<f4', [0, 3], new Uint8Array(0)),
      'empty',
      'Model input is empty: its shape [0, 3] has a zero dimension.',
    ],
    [
      'a scalar',
      npy('<f4', [], f4.subarray(0, 4)),
      'bad_rank',
      'Model input has 0 dimensions; between 1 and 8 are accepted (shape []).',
    ],
  ])('when the file has %s, it is refused saying what', (_, bytes, reason, message) => {
    expect(refusal(() => decodeModelInput(file(bytes)))).toEqual({
      status: 400,
      code: 'invalid_input',
      reason,
      message,
    });
  });
});

describe('decodeModelInput: safetensors files', () => {
  it('when the file holds one F32 tensor, it decodes to it', () => {
    const bytes = writeSafetensors(new Map([['x', { shape: [3, 2], values: Float32Array.from(values) }]]));
    expect(decodeModelInput(file(bytes))).toEqual({
      kind: 'tensor',
      tensor: { dims: [3, 2], data: Float32Array.from(values) },
    });
  });

  it.each([
    ['F64', bytesOf(Float64Array.from([1.5, -2])), [1.5, -2]],
    ['F16', bytesOf(Uint16Array.from([0x3c00, 0xc000])), [1, -2]],
    ['BF16', bytesOf(Uint16Array.from([0x3fc0, 0xc000])), [1.5, -2]],
    ['I64', bytesOf(BigInt64Array.from([-7n, 9n])), [-7, 9]],
    ['I32', bytesOf(Int32Array.from([-7, 9])), [-7, 9]],
    ['U8', Uint8Array.from([0, 255]), [0, 255]],
  ])('when the tensor is %s, it is converted to float32', (dtype, payload, expected) => {
    const decoded = decodeModelInput(file(safetensorsOf('input', dtype, [2], payload)));
    expect(decoded.tensor.dims).toEqual([2]);
    expect(Array.from(decoded.tensor.data)).toEqual(expected);
  });

  it('when the file holds two tensors, it is refused naming them', () => {
    const bytes = writeSafetensors(
      new Map([
        ['a', { shape: [1], values: Float32Array.from([1]) }],
        ['b', { shape: [1], values: Float32Array.from([2]) }],
      ]),
    );
    expect(refusal(() => decodeModelInput(file(bytes)))).toMatchObject({
      reason: 'safetensors_malformed',
      message: 'Model input safetensors file holds 2 tensors ("a", "b"); send exactly one.',
    });
  });

  it('when a tensor has an unsupported dtype, it is refused naming it', () => {
    expect(
      refusal(() => decodeModelInput(file(safetensorsOf('q', 'F8_E4M3', [2], Uint8Array.from([1, 2]))))),
    ).toMatchObject({
      reason: 'safetensors_malformed',
      message:
        'Model input tensor "q" has dtype F8_E4M3; supported are F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.',
    });
  });

  it('when the data is shorter than the header says, it is refused as malformed', () => {
    const bytes = safetensorsOf('x', 'F32', [3], bytesOf(Float32Array.from([1, 2, 3])));
    expect(refusal(() => decodeModelInput(file(bytes.subarray(0, bytes.length - 4))))).toMatchObject({
      reason: 'safetensors_malformed',
      message:
        'Model input is not a valid safetensors file: invalid safetensors file: tensor "x" has shape [3] and offsets [0, 12], which do not fit the data.',
    });
  });
});

function bigEndianF32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeFloatBE(value);
  return out;
}

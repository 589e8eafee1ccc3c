import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeModelInput } from '../../../src/inference/input/model-input';
import { FIXTURES } from '../aggregation/helpers/fixtures';
import { refusal } from './helpers/inputs';

const digit = readFileSync(path.join(FIXTURES, 'digit-9.png'));
const reference = PNG.sync.read(digit);

/** The value pngjs gives for channel `c` of pixel (x, y), to compare against the planar tensor. */
const pixel = (x: number, y: number, c: number): number => reference.data[4 * (56 * y + x) + c] ?? -1;

describe('decodeModelInput: images', () => {
  it('when the digit PNG is uploaded as a file, it becomes [1, 3, 56, 56] RGB 0..255 in planes', () => {
    const decoded = decodeModelInput({ kind: 'file', bytes: digit, filename: 'digit.png' });
    expect(decoded.kind).toBe('image');
    expect(decoded.tensor.dims).toEqual([1, 3, 56, 56]);
    const { data } = decoded.tensor;
    for (const [x, y] of [
      [0, 0],
      [28, 28],
      [20, 40],
      [55, 55],
    ] as const) {
      for (const c of [0, 1, 2]) {
        expect(data[c * 56 * 56 + 56 * y + x]).toBe(pixel(x, y, c));
      }
    }
    expect(Math.max(...data)).toBeGreaterThan(200);
    expect(Math.min(...data)).toBeLessThan(50);
  });

  it('when the digit PNG is sent as base64 in JSON, it decodes the same as the file', () => {
    const decoded = decodeModelInput({ kind: 'json', value: digit.toString('base64') });
    expect(decoded).toEqual(decodeModelInput({ kind: 'file', bytes: digit }));
  });

  it('when a grayscale PNG with alpha is sent, gray is copied to all three channels and alpha dropped', () => {
    const png = new PNG({ width: 2, height: 1, colorType: 4 });
    png.data.set([10, 10, 10, 0, 200, 200, 200, 255]);
    const bytes = PNG.sync.write(png, { colorType: 4 });
    const decoded = decodeModelInput({ kind: 'form', value: bytes.toString('base64') });
    expect(decoded.tensor.dims).toEqual([1, 3, 1, 2]);
    expect(Array.from(decoded.tensor.data)).toEqual([10, 200, 10, 200, 10, 200]);
  });

  it('when a JPEG written by jpeg-js is uploaded, it decodes to close values', () => {
    const width = 16;
    const height = 8;
    const rgba = new Uint8Array(4 * width * height);
    for (let i = 0; i < width * height; i++) {
      rgba.set([200, 100, 30, 255], 4 * i);
    }
    const bytes = jpeg.encode({ width, height, data: rgba }, 95).data;
    const decoded = decodeModelInput({ kind: 'file', bytes });
    expect(decoded.kind).toBe('image');
    expect(decoded.tensor.dims).toEqual([1, 3, height, width]);
    const plane = width * height;
    for (const [channel, expected] of [200, 100, 30].entries()) {
      const values = decoded.tensor.data.subarray(channel * plane, (channel + 1) * plane);
      for (const value of values) {
        expect(Math.abs(value - expected)).toBeLessThanOrEqual(4);
      }
    }
  });

  it('when a PNG is truncated, it is refused as corrupt', () => {
    expect(refusal(() => decodeModelInput({ kind: 'file', bytes: digit.subarray(0, 100) }))).toMatchObject({
      status: 400,
      reason: 'image_corrupt',
      message: expect.stringMatching(/^Model input PNG image could not be decoded: .+\.$/) as unknown,
    });
  });

  it('when a JPEG is garbage after its magic, it is refused as corrupt', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);
    expect(refusal(() => decodeModelInput({ kind: 'file', bytes }))).toMatchObject({
      reason: 'image_corrupt',
      message: expect.stringMatching(/^Model input JPEG image could not be decoded: /) as unknown,
    });
  });

  it('when a PNG has more pixels than the limit, it is refused before it is decoded', () => {
    const limits = { maxElements: 1_000_000, maxPixels: 3000 };
    expect(refusal(() => decodeModelInput({ kind: 'file', bytes: digit }, limits))).toMatchObject({
      reason: 'too_large',
      message: 'Model input image is 56×56 = 3136 pixels; at most 3000 are accepted.',
    });
  });

  it('when a JPEG has more pixels than the limit, it is refused', () => {
    const bytes = jpeg.encode({ width: 64, height: 64, data: new Uint8Array(4 * 64 * 64) }, 50).data;
    const limits = { maxElements: 1_000_000, maxPixels: 4000 };
    expect(refusal(() => decodeModelInput({ kind: 'file', bytes }, limits))).toMatchObject({
      reason: 'too_large',
      message: 'Model input JPEG image is over the limit of 4000 pixels.',
    });
  });
});

import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import type { InputLimits } from './input-limits';

/** Image formats an input is recognised as by its first bytes. */
export type ImageFormat = 'png' | 'jpeg';

/**
 * Decodes a PNG or JPEG into a `[1, 3, H, W]` tensor of RGB values 0..255: alpha is dropped, grayscale and palette
 * images are expanded to RGB. The pixel count is checked before the pixels are decoded.
 * @throws 400 for an image over `limits.maxPixels` or one that cannot be decoded.
 */
export function decodeImage(bytes: Uint8Array, format: ImageFormat, limits: InputLimits): FloatTensor {
  const { width, height, rgba } = format === 'png' ? readPng(bytes, limits) : readJpeg(bytes, limits);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let pixel = 0; pixel < plane; pixel++) {
    data[pixel] = rgba[4 * pixel] ?? 0;
    data[plane + pixel] = rgba[4 * pixel + 1] ?? 0;
    data[2 * plane + pixel] = rgba[4 * pixel + 2] ?? 0;
  }
  return { dims: [1, 3, height, width], data };
}

interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

function readPng(bytes: Uint8Array, limits: InputLimits): Pixels {
  // IHDR is always the first chunk: width and height sit at bytes 16..23, big-endian.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkPixels(view.getUint32(16), view.getUint32(20), limits);
  }
  try {
    // pngjs expands grayscale and palette images to 8-bit RGBA and scales 16-bit samples down.
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, rgba: png.data };
  } catch (err) {
    throw corrupt('PNG', err);
  }
}

function readJpeg(bytes: Uint8Array, limits: InputLimits): Pixels {
  let image;
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: limits.maxPixels / 1e6,
      // Room for the RGBA output plus jpeg-js's per-component buffers at the largest accepted size.
      maxMemoryUsageInMB: Math.ceil((16 * limits.maxPixels) / 2 ** 20) + 16,
    });
  } catch (err) {
    if (err instanceof Error && /maxResolutionInMP|maxMemoryUsageInMB/.test(err.message)) {
      throw inputError('too_large', `Model input JPEG image is over the limit of ${limits.maxPixels} pixels.`);
    }
    throw corrupt('JPEG', err);
  }
  checkPixels(image.width, image.height, limits);
  return { width: image.width, height: image.height, rgba: image.data };
}

function checkPixels(width: number, height: number, limits: InputLimits): void {
  if (width * height > limits.maxPixels) {
    throw inputError(
      'too_large',
      `Model input image is ${width}×${height} = ${width * height} pixels; at most ${limits.maxPixels} are accepted.`,
    );
  }
}

function corrupt(format: string, err: unknown): ReturnType<typeof inputError> {
  const reason = err instanceof Error ? err.message : String(err);
  return inputError('image_corrupt', `Model input ${format} image could not be decoded: ${reason}.`);
}

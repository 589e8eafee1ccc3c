import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import { checkDims, checkFinite, type InputLimits } from './input-limits';

/**
 * Reads little-endian float32 values laid out row-major in `shape`.
 * @throws 400 when the byte count is not 4 × the element count (both are named), or a value is not finite.
 */
export function decodeRawFloat32(bytes: Uint8Array, shape: readonly number[], limits: InputLimits): FloatTensor {
  const elements = checkDims(shape, limits);
  if (bytes.length !== 4 * elements) {
    throw inputError(
      'byte_count',
      `Model input has ${bytes.length} bytes, but shape [${shape.join(', ')}] needs ${4 * elements} (4 bytes per float32).`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(elements);
  for (let i = 0; i < elements; i++) {
    data[i] = view.getFloat32(4 * i, true);
  }
  checkFinite(data);
  return { dims: [...shape], data };
}

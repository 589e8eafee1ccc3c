import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import { checkDims, checkFinite, type InputLimits } from './input-limits';

/** Whether this machine stores a float32 little-endian, as the input is sent. */
const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/**
 * Reads little-endian float32 values laid out row-major in `shape`; bytes that are the whole of their memory become
 * the tensor's memory (the caller hands them over), others are copied.
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
  let data: Float32Array;
  if (LITTLE_ENDIAN) {
    // The bytes are the values as this machine lays them out: their memory when it is theirs alone (a large decoded
    // base64), otherwise one copy into a buffer of their own, aligned (not `slice()`, which a Buffer answers with a
    // view into its maybe shared memory: Node's pool for small ones).
    const owned = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
    data = new Float32Array(owned ? bytes.buffer : new Uint8Array(bytes).buffer, 0, elements);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    data = new Float32Array(elements);
    for (let i = 0; i < elements; i++) {
      data[i] = view.getFloat32(4 * i, true);
    }
  }
  checkFinite(data);
  return { dims: [...shape], data };
}

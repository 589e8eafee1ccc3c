import { NPY_MAGIC } from './npy';

/** What a byte payload is, judged by its first bytes only (never by a file name or content type). */
export type ByteFormat = 'png' | 'jpeg' | 'npy' | 'safetensors' | 'unknown';

const PNG_MAGIC = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Uint8Array.from([0xff, 0xd8, 0xff]);

/** Recognises PNG, JPEG, .npy and safetensors payloads by their magic bytes. */
export function sniffFormat(bytes: Uint8Array): ByteFormat {
  if (startsWith(bytes, PNG_MAGIC)) {
    return 'png';
  }
  if (startsWith(bytes, JPEG_MAGIC)) {
    return 'jpeg';
  }
  if (startsWith(bytes, NPY_MAGIC)) {
    return 'npy';
  }
  return looksLikeSafetensors(bytes) ? 'safetensors' : 'unknown';
}

/** Safetensors has no magic: an 8-byte little-endian header length that fits the file, then a JSON object. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) {
    return false;
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return headerLength >= 2n && headerLength <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  return bytes.length >= magic.length && magic.every((byte, index) => bytes[index] === byte);
}

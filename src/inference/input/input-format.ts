import { hasSignature, sniffImage } from '../../media-sniff';
import { NPY_MAGIC } from './npy';

/** What a byte payload is, judged by its first bytes only (never by a file name or content type). */
export type ByteFormat = 'png' | 'jpeg' | 'npy' | 'safetensors' | 'unknown';

/** Recognises PNG, JPEG, .npy and safetensors payloads by their magic bytes. */
export function sniffFormat(bytes: Uint8Array): ByteFormat {
  const image = sniffImage(bytes);
  if (image === 'png' || image === 'jpeg') {
    return image;
  }
  if (hasSignature(bytes, NPY_MAGIC)) {
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

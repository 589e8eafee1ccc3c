import { inputError } from '../../errors';

const BASE64_ONLY = /^[A-Za-z0-9+/=]*$/;

/**
 * Decodes standard base64 strictly (Node's own decoder skips characters it does not know). Whitespace such as the
 * line breaks of `base64` tools is ignored; padding is optional.
 * @throws 400 naming the first character outside the alphabet, or a length no base64 text can have.
 */
export function decodeBase64(text: string): Uint8Array {
  // Most base64 holds nothing but its alphabet: one pass tells, and spares the search for whitespace and strays.
  const plain = BASE64_ONLY.test(text);
  const compact = plain ? text : text.replace(/\s+/g, '');
  const bad = plain ? null : /[^A-Za-z0-9+/=]/.exec(compact);
  if (bad) {
    throw badBase64(`${JSON.stringify(bad[0])} at position ${bad.index} is not in the base64 alphabet`);
  }
  const padding = compact.indexOf('=');
  if (padding >= 0 && !/^={1,2}$/.test(compact.slice(padding))) {
    throw badBase64(`the padding "=" at position ${padding} is not at the end`);
  }
  const padded = compact.endsWith('=');
  if ((padded && compact.length % 4 !== 0) || compact.length % 4 === 1) {
    throw badBase64(`${compact.length} characters cannot be base64`);
  }
  return Buffer.from(compact, 'base64');
}

function badBase64(problem: string): ReturnType<typeof inputError> {
  return inputError('bad_base64', `Model input is neither a JSON list nor valid base64: ${problem}.`);
}

const PAD = 0x3d;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;

/**
 * Decodes `bytes[from, to)` (a JSON string's text, say) as `decodeBase64` decodes the same text, into a buffer of its
 * own when large; undefined unless it is the alphabet alone, at least one character, with at most two "=" at the end
 * and a length base64 can have (no whitespace, no stray character): for anything else `decodeBase64` reads the text,
 * or refuses it in its words. Node's decoder does the work without the alphabet's check: it reads "-" and "_" as
 * well (looked for first) and passes over every other stray, so that it answers fewer bytes than the text's length
 * promises exactly when one was there (each character of the alphabet carries 6 bits, a stray none, and a length
 * that leaves one character over is refused before). Measured on 64 MNIST-sized samples (268 KB): 0.3 ms, where a
 * decoder in JavaScript took 0.6 to 0.9 ms and the string's own checks with Node's decoder 0.6 ms.
 */
export function decodeBase64Bytes(bytes: Uint8Array, from: number, to: number): Uint8Array | undefined {
  let end = to;
  while (end > from && to - end < 2 && bytes[end - 1] === PAD) {
    end -= 1;
  }
  const chars = end - from;
  const tail = chars % 4;
  if (chars === 0 || tail === 1 || (end < to && (to - from) % 4 !== 0)) {
    return undefined;
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from);
  if (text.includes(DASH) || text.includes(UNDERSCORE)) {
    return undefined;
  }
  const out = Buffer.from(text.toString('latin1'), 'base64');
  return out.length === ((chars - tail) / 4) * 3 + (tail === 0 ? 0 : tail - 1) ? out : undefined;
}

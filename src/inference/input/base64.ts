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

import { inputError } from './input-error';

/**
 * Decodes standard base64 strictly (Node's own decoder skips characters it does not know). Whitespace such as the
 * line breaks of `base64` tools is ignored; padding is optional.
 * @throws 400 naming the first character outside the alphabet, or a length no base64 text can have.
 */
export function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  const bad = /[^A-Za-z0-9+/=]|=[^=]|={3,}/.exec(compact);
  if (bad) {
    throw inputError(
      'bad_base64',
      `Model input is neither a JSON list nor valid base64: ${JSON.stringify(bad[0].slice(0, 1))} at position ${bad.index} is not allowed there.`,
    );
  }
  const padded = compact.endsWith('=');
  if ((padded && compact.length % 4 !== 0) || compact.length % 4 === 1) {
    throw inputError(
      'bad_base64',
      `Model input is neither a JSON list nor valid base64: ${compact.length} characters cannot be base64.`,
    );
  }
  return Buffer.from(compact, 'base64');
}

/** The bytes of JSON's syntax that the byte-level readers (`json-number-list`, the API's `json-text`) look for. */
export const JSON_BYTES = {
  quote: 0x22,
  backslash: 0x5c,
  comma: 0x2c,
  colon: 0x3a,
  openBrace: 0x7b,
  closeBrace: 0x7d,
  openBracket: 0x5b,
  closeBracket: 0x5d,
  minus: 0x2d,
  plus: 0x2b,
  dot: 0x2e,
  zero: 0x30,
  nine: 0x39,
  lowerE: 0x65,
  upperE: 0x45,
} as const;

/** The index of the first byte at or after `from` that is not JSON whitespace (space, tab, CR, LF); the length at most. */
export function skipJsonSpace(bytes: Uint8Array, from: number): number {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      return i;
    }
    i += 1;
  }
  return n;
}

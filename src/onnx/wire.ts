import { Writer } from 'protobufjs/minimal';

/** No valid varint is longer: ten bytes hold 64 bits. */
export const MAX_VARINT_BYTES = 10;

/** A varint decoded from a buffer, or why it could not be: the buffer ends first, or it runs past ten bytes. */
export type DecodedVarint =
  | { readonly ok: true; readonly value: number; readonly end: number }
  | { readonly ok: false; readonly invalid: boolean };

const ENDS_FIRST: DecodedVarint = { ok: false, invalid: false };
const TOO_LONG: DecodedVarint = { ok: false, invalid: true };

/**
 * Decodes the base-128 varint at `at`, reading no byte at or after `end`; `end` is the offset just past it. Values
 * above 2^53 lose precision, which only matters for values the reader never interprets.
 */
export function decodeVarint(bytes: Uint8Array, at: number, end: number): DecodedVarint {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at + i >= end) {
      return ENDS_FIRST;
    }
    const byte = bytes[at + i] ?? 0;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      return { ok: true, value, end: at + i + 1 };
    }
  }
  return TOO_LONG;
}

/** True when the bytes from `at` to `end` hold a whole varint, or ten bytes of one (enough to refuse it). */
export function holdsVarint(bytes: Uint8Array, at: number, end: number): boolean {
  const last = Math.min(end, at + MAX_VARINT_BYTES);
  for (let i = at; i < last; i++) {
    if ((bytes[i] ?? 0) < 0x80) {
      return true;
    }
  }
  return last - at === MAX_VARINT_BYTES;
}

/** The protobuf varint encoding of a length. */
export function encodeVarint(value: number): Uint8Array {
  return Writer.create().uint32(value).finish();
}

/** The offset just past the varint that starts at `at` (a tag or a length prefix of bytes already read). */
export function skipVarint(bytes: Uint8Array, at: number): number {
  let end = at;
  while ((bytes[end] ?? 0) >= 0x80) {
    end++;
  }
  return end + 1;
}

/** Joins byte arrays, into `out` when given (it must be long enough), else into a new array. */
export function concatBytes(parts: readonly Uint8Array[], out?: Uint8Array): Uint8Array {
  const target = out ?? new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    target.set(part, at);
    at += part.length;
  }
  return target;
}

import { AggregationError, malformed } from '../aggregation/errors';
import { decodeVarint, MAX_VARINT_BYTES } from './wire';

/** Protobuf caps a message at 2 GiB; a larger length prefix is corrupt, and refusing it avoids a huge allocation. */
const MAX_FIELD_LENGTH = 2 ** 31;

/** A varint as read: its value and its exact bytes (kept so a rewritten model reproduces the template's bytes). */
export interface VarintRead {
  readonly value: number;
  readonly bytes: Uint8Array;
}

/**
 * The reads the model walk makes, in order, synchronously. A buffer held whole answers them at once; a stream
 * (`ByteSource`) answers them once it has buffered what the walk said it needs next. Returned arrays are views.
 */
export interface ByteCursor {
  /** Bytes consumed so far: the offset of the next byte in the model. */
  readonly offset: number;
  /** True once every byte has been consumed. */
  atEnd(): boolean;
  /** Reads a base-128 varint; throws `model_truncated` or `model_malformed` naming `context`. */
  readVarint(context: string): VarintRead;
  /** Reads exactly `length` bytes; throws `model_truncated` naming `context` when the model ends first. */
  read(length: number, context: string): Uint8Array;
}

/** A cursor that reads by position: the walk skips float values through it instead of reading them. */
export interface SkippingCursor extends ByteCursor {
  readonly skipsValues: true;
  /** Throws `model_truncated` naming `context` unless at least `length` bytes are left. */
  expect(length: number, context: string): void;
  /** Moves past `length` bytes without reading them (after an `expect` of them). */
  skip(length: number): void;
}

/** True for a cursor that can skip bytes unread. */
export function skipsValues(cursor: ByteCursor): cursor is SkippingCursor {
  return 'skipsValues' in cursor;
}

/** A cursor over a model held whole in memory; offsets index `bytes`. */
export class BufferCursor implements ByteCursor {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** The offset of the next byte in `bytes`. */
  get offset(): number {
    return this.pos;
  }

  /** True once every byte has been read. */
  atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Reads the varint at the cursor. */
  readVarint(context: string): VarintRead {
    const { read, end } = takeVarint(this.bytes, this.pos, this.bytes.length, 0, context);
    this.pos = end;
    return read;
  }

  /** Reads `length` bytes as a view. */
  read(length: number, context: string): Uint8Array {
    const bytes = takeBytes(this.bytes, this.pos, this.bytes.length, 0, length, context);
    this.pos += length;
    return bytes;
  }
}

/**
 * The varint at `at` of `bytes` (no further than `end`) and the offset past it. Errors give model offsets: `base`
 * is the model offset of `bytes[0]`, and a varint that `end` cuts is reported at `end`, the end of the model.
 */
export function takeVarint(
  bytes: Uint8Array,
  at: number,
  end: number,
  base: number,
  context: string,
): { read: VarintRead; end: number } {
  const decoded = decodeVarint(bytes, at, end);
  if (decoded.ok) {
    return { read: { value: decoded.value, bytes: bytes.subarray(at, decoded.end) }, end: decoded.end };
  }
  if (decoded.invalid) {
    throw malformed(`invalid varint in ${context} at byte ${base + at + MAX_VARINT_BYTES}`);
  }
  throw truncated(base + end, context);
}

/** `length` bytes at `at` of `bytes` as a view; when `end` comes first, the model is truncated there (see `takeVarint`). */
export function takeBytes(
  bytes: Uint8Array,
  at: number,
  end: number,
  base: number,
  length: number,
  context: string,
): Uint8Array {
  if (end - at < length) {
    throw truncated(base + end, context, length);
  }
  return bytes.subarray(at, at + length);
}

/** Reads a length prefix and checks it against the protobuf limit. */
export function readLength(cursor: ByteCursor, context: string): VarintRead {
  const length = cursor.readVarint(context);
  if (length.value >= MAX_FIELD_LENGTH) {
    throw malformed(`${context} claims ${length.value} bytes, more than protobuf allows`);
  }
  return length;
}

/** The error of a read that the model's end at `offset` cuts short. */
export function truncated(offset: number, context: string, needed?: number): AggregationError {
  const need = needed === undefined ? '' : ` (${needed} bytes needed)`;
  return new AggregationError(
    'model_truncated',
    `the model is truncated: it ends at byte ${offset} inside ${context}${need}`,
  );
}

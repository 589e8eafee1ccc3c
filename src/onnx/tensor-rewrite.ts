import type { InitializerLayout } from './summary';
import type { FieldRecord } from './walk';
import { encodeVarint, skipVarint } from './wire';
import { TensorField, WireType } from './schema';
import type { TensorRecord } from './tensor-record';

const RAW_DATA_TAG = (TensorField.RAW_DATA << 3) | WireType.LEN;

/** True when new raw bytes of `byteLength` can overwrite the template's raw_data in place (same length, only form). */
export function canSplice(layout: InitializerLayout, byteLength: number): boolean {
  return layout.hasRawData && layout.valueFieldsLength === rawFieldLength(byteLength);
}

/** The TensorProto length after its value fields are replaced by one raw_data field of `byteLength` bytes. */
function rewrittenPayloadLength(layout: InitializerLayout, byteLength: number): number {
  return layout.payloadLength - layout.valueFieldsLength + rawFieldLength(byteLength);
}

/** How many bytes a whole initializer record (tag + length + payload) grows when rewritten. */
export function recordGrowth(layout: InitializerLayout, byteLength: number): number {
  if (canSplice(layout, byteLength)) {
    return 0;
  }
  const after = rewrittenPayloadLength(layout, byteLength);
  return after + encodeVarint(after).length - layout.payloadLength - encodeVarint(layout.payloadLength).length;
}

/** The record with `bytes` written over its raw_data: every other byte is the template's own (views, no copy). */
export function spliceRecord(record: FieldRecord, tensor: TensorRecord, bytes: Uint8Array): Uint8Array[] {
  const raw = tensor.rawData ?? { start: 0, end: 0 };
  return [record.header, payloadSlice(record, tensor, 0, raw.start), bytes, payloadSlice(record, tensor, raw.end)];
}

/**
 * Bytes `start … end − 1` of the TensorProto as stored. When a walk by position skipped its raw_data, the payload
 * lacks those bytes: offsets past them sit that much earlier in it (spans never start or end inside them).
 */
export function payloadSlice(record: FieldRecord, tensor: TensorRecord, start: number, end?: number): Uint8Array {
  const at = (offset: number): number => {
    const skipped = tensor.elided;
    const rawStart = tensor.rawData?.start ?? 0;
    return skipped === undefined || offset <= rawStart ? offset : Math.max(rawStart, offset - skipped.length);
  };
  return record.payload.subarray(at(start), end === undefined ? undefined : at(end));
}

/**
 * The record with its value fields (typed or raw) dropped and one raw_data field put where the first one stood;
 * every other field keeps its bytes and order. Only the record's own length prefix changes.
 */
export function rewriteRecord(record: FieldRecord, tensor: TensorRecord, bytes: Uint8Array): Uint8Array[] {
  const raw = [encodeVarint(RAW_DATA_TAG), encodeVarint(bytes.length), bytes];
  const pieces: Uint8Array[] = [];
  let at = 0;
  let inserted = false;
  for (const span of tensor.valueFields) {
    pieces.push(payloadSlice(record, tensor, at, span.start));
    if (!inserted) {
      pieces.push(...raw);
      inserted = true;
    }
    at = span.end;
  }
  pieces.push(payloadSlice(record, tensor, at));
  if (!inserted) {
    pieces.push(...raw);
  }
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  // The header is the tag, then the length prefix this replaces.
  return [record.header.subarray(0, skipVarint(record.header, 0)), encodeVarint(length), ...pieces];
}

function rawFieldLength(byteLength: number): number {
  return 1 + encodeVarint(byteLength).length + byteLength;
}

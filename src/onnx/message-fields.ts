import { Reader } from 'protobufjs/minimal';
import type { FieldRecord } from './walk';
import { WireType } from './schema';

/** A field's place in the model bytes: from its tag to its end, and where its value starts. */
export interface FieldSpan {
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** One protobuf field of a message: number, wire type and span. */
export interface Field {
  readonly number: number;
  readonly wireType: number;
  readonly span: FieldSpan;
}

/** Where a field the model walk read sits in the model. */
export function fieldSpan(record: FieldRecord): FieldSpan {
  const valueStart = record.offset + record.header.length;
  return { start: record.offset, valueStart, end: valueStart + record.payload.length };
}

/**
 * The fields of the message in model[start, end), in order: a message inside one field the walk has read (a node,
 * an attribute, a tensor), decoded with protobufjs' reader like every such message. Throws protobufjs' error (a
 * RangeError when a field runs past the end) when the bytes do not decode.
 */
export function* messageFields(model: Uint8Array, start: number, end: number): Generator<Field> {
  const reader = Reader.create(model.subarray(0, end));
  reader.pos = start;
  while (reader.pos < end) {
    const fieldStart = reader.pos;
    const tag = reader.uint32();
    let valueStart = reader.pos;
    if ((tag & 7) === WireType.LEN) {
      const length = reader.uint32();
      valueStart = reader.pos;
      reader.skip(length);
    } else {
      reader.skipType(tag & 7);
    }
    yield { number: tag >>> 3, wireType: tag & 7, span: { start: fieldStart, valueStart, end: reader.pos } };
  }
}

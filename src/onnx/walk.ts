import { malformed } from '../aggregation/errors';
import type { ByteCursor, SkippingCursor } from './byte-cursor';
import { readLength, skipsValues } from './byte-cursor';
import { floatDType, GraphField, ModelField, TensorField, WireType } from './schema';
import { concatBytes, decodeVarint } from './wire';

/**
 * One protobuf field as read: `offset` is where its tag starts in the model, `header` is its tag (and length
 * prefix), `payload` its value bytes.
 */
export interface FieldRecord {
  readonly offset: number;
  readonly field: number;
  readonly wireType: number;
  readonly header: Uint8Array;
  readonly payload: Uint8Array;
  /** Set when the walk skipped an initializer's float values: the payload then lacks them. */
  readonly elided?: ElidedValues;
}

/**
 * The `raw_data` bytes of a float initializer that a walk by position skipped: they belong at index `at` of the
 * payload (after raw_data's tag and length, which the payload keeps) and sit at byte `position` of the model.
 */
export interface ElidedValues {
  readonly at: number;
  readonly length: number;
  readonly position: number;
}

/** An initializer smaller than this is read whole even by a walk that skips float values: one read is cheaper. */
const ELIDE_MIN_BYTES = 4096;

/** What the walk reports, in file order. Concatenating every header and payload reproduces the model. */
export type ModelEvent =
  | { readonly kind: 'model_field'; readonly record: FieldRecord }
  | {
      readonly kind: 'graph_begin';
      readonly offset: number;
      readonly tag: Uint8Array;
      readonly lengthBytes: Uint8Array;
      readonly length: number;
    }
  | { readonly kind: 'graph_field'; readonly record: FieldRecord }
  | { readonly kind: 'initializer'; readonly record: FieldRecord; readonly index: number }
  | { readonly kind: 'graph_end' };

/**
 * What the walk needs buffered before its next read: a byte, if the model has one left (is it at its end?), one
 * varint (at most ten bytes), or a field value of that many bytes.
 */
export interface Need {
  readonly kind: 'need';
  readonly bytes: number | 'varint' | 'byte';
}

const NEED_BYTE: Need = { kind: 'need', bytes: 'byte' };
const NEED_VARINT: Need = { kind: 'need', bytes: 'varint' };
const NEED_FIXED32: Need = { kind: 'need', bytes: 4 };
const NEED_FIXED64: Need = { kind: 'need', bytes: 8 };
const GRAPH_END: ModelEvent = { kind: 'graph_end' };

/** A field's tag as read: where it starts, its bytes, field number and wire type. */
interface FieldTag {
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly field: number;
  readonly wireType: number;
}

/**
 * The one reader of ONNX's protobuf framing: ModelProto -> graph (7) -> initializer (5), one field at a time, as
 * the events it finds interleaved with what it needs buffered before each read. It is written once for both ways a
 * model arrives: `walkModel` fills each need from a chunked stream (so at most one field, one TensorProto, is held),
 * and `walkModelBytes` walks a model held whole, whose cursor already holds everything.
 */
export function* walkSteps(source: ByteCursor): Generator<ModelEvent | Need, void, undefined> {
  let graphs = 0;
  let opsets = 0;
  for (;;) {
    yield NEED_BYTE;
    if (source.atEnd()) {
      break;
    }
    const tag = yield* readTag(source, 'a model field tag');
    opsets += tag.field === ModelField.OPSET_IMPORT ? 1 : 0;
    if (tag.field !== ModelField.GRAPH || tag.wireType !== WireType.LEN) {
      yield { kind: 'model_field', record: yield* readValue(source, tag, `model field ${tag.field}`) };
      continue;
    }
    if (++graphs > 1) {
      throw malformed('the model holds more than one graph field');
    }
    yield NEED_VARINT;
    const length = readLength(source, 'the graph length');
    yield { kind: 'graph_begin', offset: tag.offset, tag: tag.bytes, lengthBytes: length.bytes, length: length.value };
    yield* graphSteps(source, source.offset + length.value);
    yield GRAPH_END;
  }
  if (graphs === 0) {
    throw malformed('the model has no graph: is this an ONNX file?');
  }
  // Exporters write opset_import after the graph, so its absence also catches a file cut right after the graph.
  if (opsets === 0) {
    throw malformed('the model has no opset_import: it is truncated or not a valid ONNX model');
  }
}

/** Reads a field's tag; field number 0 is refused. */
function* readTag(source: ByteCursor, context: string): Generator<Need, FieldTag, undefined> {
  const offset = source.offset;
  yield NEED_VARINT;
  const tag = source.readVarint(context);
  const field = Math.floor(tag.value / 8);
  if (field === 0) {
    throw malformed('field number 0 is not valid protobuf: is this an ONNX file?');
  }
  return { offset, bytes: tag.bytes, field, wireType: tag.value % 8 };
}

/** Reads the value of the field whose tag was just read; `context` names the field in errors. */
function* readValue(source: ByteCursor, tag: FieldTag, context: string): Generator<Need, FieldRecord, undefined> {
  const { offset, field, wireType } = tag;
  switch (wireType) {
    case WireType.VARINT:
      yield NEED_VARINT;
      return { offset, field, wireType, header: tag.bytes, payload: source.readVarint(context).bytes };
    case WireType.FIXED64:
      yield NEED_FIXED64;
      return { offset, field, wireType, header: tag.bytes, payload: source.read(8, context) };
    case WireType.FIXED32:
      yield NEED_FIXED32;
      return { offset, field, wireType, header: tag.bytes, payload: source.read(4, context) };
    case WireType.LEN: {
      yield NEED_VARINT;
      const length = readLength(source, context);
      yield { kind: 'need', bytes: length.value };
      const payload = source.read(length.value, context);
      return { offset, field, wireType, header: concatBytes([tag.bytes, length.bytes]), payload };
    }
    default:
      throw malformed(`${context} has wire type ${wireType}, which ONNX never uses`);
  }
}

function* graphSteps(source: ByteCursor, end: number): Generator<ModelEvent | Need, void, undefined> {
  let initializers = 0;
  while (source.offset < end) {
    const tag = yield* readTag(source, 'a graph field tag');
    const context =
      tag.field === GraphField.INITIALIZER ? `initializer ${initializers} of the graph` : `graph field ${tag.field}`;
    const initializer = tag.field === GraphField.INITIALIZER && tag.wireType === WireType.LEN;
    const record =
      initializer && skipsValues(source)
        ? yield* readInitializerSkippingValues(source, tag, context)
        : yield* readValue(source, tag, context);
    if (source.offset > end) {
      throw malformed(`${context} runs past the end of the graph`);
    }
    if (initializer) {
      yield { kind: 'initializer', record, index: initializers++ };
    } else {
      yield { kind: 'graph_field', record };
    }
  }
}

/**
 * Reads an initializer field (its tag just read) field by field, skipping the bytes of a float tensor's raw_data:
 * the record's payload is the TensorProto without them, and `elided` says where they are. Fields are copied as
 * they are read, since a cursor that reads by position reuses its window from read to read.
 */
function* readInitializerSkippingValues(
  source: SkippingCursor,
  tag: FieldTag,
  context: string,
): Generator<Need, FieldRecord, undefined> {
  yield NEED_VARINT;
  const length = readLength(source, context);
  const header = concatBytes([tag.bytes, length.bytes]);
  const base = { offset: tag.offset, field: tag.field, wireType: tag.wireType, header };
  if (length.value < ELIDE_MIN_BYTES) {
    yield { kind: 'need', bytes: length.value };
    return { ...base, payload: source.read(length.value, context) };
  }
  // A model that ends inside the initializer is refused as a stream read of all of it would be, in the same words.
  source.expect(length.value, context);
  const end = source.offset + length.value;
  const parts: Uint8Array[] = [];
  let size = 0;
  let dataType = 0;
  let elided: ElidedValues | undefined;
  const keep = (bytes: Uint8Array): void => {
    parts.push(bytes.slice());
    size += bytes.length;
  };
  while (source.offset < end) {
    const field = yield* readTag(source, `a field of ${context}`);
    if (
      field.field === TensorField.RAW_DATA &&
      field.wireType === WireType.LEN &&
      elided === undefined &&
      floatDType(dataType) !== undefined
    ) {
      yield NEED_VARINT;
      const rawLength = readLength(source, context);
      keep(field.bytes);
      keep(rawLength.bytes);
      source.expect(rawLength.value, context);
      elided = { at: size, length: rawLength.value, position: source.offset };
      source.skip(rawLength.value);
    } else {
      const value = yield* readValue(source, field, `a field of ${context}`);
      if (field.field === TensorField.DATA_TYPE && field.wireType === WireType.VARINT) {
        const decoded = decodeVarint(value.payload, 0, value.payload.length);
        dataType = decoded.ok ? decoded.value : 0;
      }
      keep(value.header);
      keep(value.payload);
    }
  }
  if (source.offset > end) {
    throw malformed(`${context} does not decode: a field runs past the end of the tensor`);
  }
  return { ...base, payload: concatBytes(parts), ...(elided ? { elided } : {}) };
}

import { malformed } from '../aggregation/errors';
import { ByteSource } from './byte-source';
import { GraphField, ModelField, WireType } from './schema';

/** One protobuf field as found in the stream: `header` is its tag (and length prefix), `payload` its value bytes. */
export interface FieldRecord {
  readonly field: number;
  readonly wireType: number;
  readonly header: Uint8Array;
  readonly payload: Uint8Array;
}

/** What `walkModel` reports, in file order. Concatenating every header and payload reproduces the model. */
export type ModelEvent =
  | { readonly kind: 'model_field'; readonly record: FieldRecord }
  | {
      readonly kind: 'graph_begin';
      readonly tag: Uint8Array;
      readonly lengthBytes: Uint8Array;
      readonly length: number;
    }
  | { readonly kind: 'graph_field'; readonly record: FieldRecord }
  | { readonly kind: 'initializer'; readonly record: FieldRecord; readonly index: number }
  | { readonly kind: 'graph_end' };

/**
 * Walks ModelProto -> graph (7) -> initializer (5) over a chunked stream, buffering one field at a time (at most
 * one TensorProto), so reading a model never costs more than its largest tensor. Hand-written because protobuf
 * libraries decode a whole message at once. With `reuseBuffers`, an event's bytes are valid only until the next
 * event (for consumers that finish with each event before asking for the next, such as scans and folds).
 */
export async function* walkModel(chunks: AsyncIterable<Uint8Array>, reuseBuffers = false): AsyncGenerator<ModelEvent> {
  const source = new ByteSource(chunks, reuseBuffers);
  try {
    yield* walkFields(source);
  } finally {
    // Also when the consumer stops at a refused update: the stream must not stay open.
    await source.close();
  }
}

async function* walkFields(source: ByteSource): AsyncGenerator<ModelEvent> {
  let graphs = 0;
  let opsets = 0;
  while (!(await source.atEnd())) {
    const tag = await source.readVarint('a model field tag');
    const { field, wireType } = splitTag(tag.value);
    opsets += field === ModelField.OPSET_IMPORT ? 1 : 0;
    if (field !== ModelField.GRAPH || wireType !== WireType.LEN) {
      yield {
        kind: 'model_field',
        record: await readField(source, tag.bytes, field, wireType, `model field ${field}`),
      };
      continue;
    }
    if (++graphs > 1) {
      throw malformed('the model holds more than one graph field');
    }
    const length = await source.readLength('the graph length');
    yield { kind: 'graph_begin', tag: tag.bytes, lengthBytes: length.bytes, length: length.value };
    yield* walkGraph(source, source.offset + length.value);
    yield { kind: 'graph_end' };
  }
  if (graphs === 0) {
    throw malformed('the model has no graph: is this an ONNX file?');
  }
  // Exporters write opset_import after the graph, so its absence also catches a file cut right after the graph.
  if (opsets === 0) {
    throw malformed('the model has no opset_import: it is truncated or not a valid ONNX model');
  }
}

async function* walkGraph(source: ByteSource, end: number): AsyncGenerator<ModelEvent> {
  let initializers = 0;
  while (source.offset < end) {
    const tag = await source.readVarint('a graph field tag');
    const { field, wireType } = splitTag(tag.value);
    const context =
      field === GraphField.INITIALIZER ? `initializer ${initializers} of the graph` : `graph field ${field}`;
    const record = await readField(source, tag.bytes, field, wireType, context);
    if (source.offset > end) {
      throw malformed(`${context} runs past the end of the graph`);
    }
    if (field === GraphField.INITIALIZER && wireType === WireType.LEN) {
      yield { kind: 'initializer', record, index: initializers++ };
    } else {
      yield { kind: 'graph_field', record };
    }
  }
}

async function readField(
  source: ByteSource,
  tag: Uint8Array,
  field: number,
  wireType: number,
  context: string,
): Promise<FieldRecord> {
  switch (wireType) {
    case WireType.VARINT:
      return { field, wireType, header: tag, payload: (await source.readVarint(context)).bytes };
    case WireType.FIXED64:
      return { field, wireType, header: tag, payload: await source.read(8, context) };
    case WireType.FIXED32:
      return { field, wireType, header: tag, payload: await source.read(4, context) };
    case WireType.LEN: {
      const length = await source.readLength(context);
      const payload = await source.read(length.value, context);
      return { field, wireType, header: concatBytes(tag, length.bytes), payload };
    }
    default:
      throw malformed(`${context} has wire type ${wireType}, which ONNX never uses`);
  }
}

function splitTag(tag: number): { field: number; wireType: number } {
  const field = Math.floor(tag / 8);
  if (field === 0) {
    throw malformed('field number 0 is not valid protobuf: is this an ONNX file?');
  }
  return { field, wireType: tag % 8 };
}

/** Joins a few small byte arrays (headers, prefixes). */
function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

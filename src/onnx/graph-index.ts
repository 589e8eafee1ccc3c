import { Reader } from 'protobufjs/minimal';
import { malformed } from '../aggregation/errors';
import type { Field, FieldSpan } from './message-fields';
import { fieldSpan, messageFields } from './message-fields';
import { walkModelBytes } from './reader';
import { GraphField, ModelField, TensorField, WireType } from './schema';

/** A one-element bool tensor's value, with the offset of the single byte that holds it (0 or 1). */
export interface BoolScalar {
  readonly value: boolean;
  readonly byteOffset: number;
}

/** One graph node: what the Dropout rewrite needs to know of it. */
export interface GraphNode {
  readonly index: number;
  readonly span: FieldSpan;
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** A Constant node whose `value` is a one-element bool tensor of one value byte. */
  readonly boolValue?: BoolScalar;
}

/** The top-level graph of a model: its span, nodes and bool scalar initializers, and the default opset. */
export interface GraphIndex {
  readonly graph: FieldSpan;
  readonly nodes: readonly GraphNode[];
  readonly boolInitializers: ReadonlyMap<string, BoolScalar>;
  /** The ai.onnx opset the model imports (0 when it imports only other domains). */
  readonly opset: number;
}

const NodeField = { INPUT: 1, OUTPUT: 2, NAME: 3, OP_TYPE: 4, ATTRIBUTE: 5, DOMAIN: 7 } as const;
const AttributeField = { NAME: 1, T: 5 } as const;
const BOOL = 9;

/**
 * Indexes a whole model in memory (inference holds it whole anyway) down to the graph's nodes, keeping byte offsets
 * so callers can patch or re-encode single fields and keep every other byte. Subgraphs (If, Loop) are not entered.
 * The model is read by the same walk as the upload checks, so every stored model reads as it did when it was checked.
 */
export function indexGraph(model: Uint8Array): GraphIndex {
  try {
    return indexEvents(model);
  } catch (error) {
    if (error instanceof RangeError) {
      throw malformed(`the model does not decode: ${error.message}`);
    }
    throw error;
  }
}

function indexEvents(model: Uint8Array): GraphIndex {
  // The walk refuses a model without a graph, so this placeholder is always replaced.
  let graph: FieldSpan = { start: 0, valueStart: 0, end: 0 };
  let opset = 0;
  const nodes: GraphNode[] = [];
  const boolInitializers = new Map<string, BoolScalar>();
  for (const event of walkModelBytes(model)) {
    if (event.kind === 'graph_begin') {
      const valueStart = event.offset + event.tag.length + event.lengthBytes.length;
      graph = { start: event.offset, valueStart, end: valueStart + event.length };
    } else if (event.kind === 'graph_end' || event.record.wireType !== WireType.LEN) {
      continue;
    } else if (event.kind === 'model_field' && event.record.field === ModelField.OPSET_IMPORT) {
      opset = Math.max(opset, defaultOpset(model, fieldSpan(event.record)));
    } else if (event.kind === 'graph_field' && event.record.field === GraphField.NODE) {
      nodes.push(readNode(model, fieldSpan(event.record), nodes.length));
    } else if (event.kind === 'initializer') {
      const tensor = readBoolScalar(model, fieldSpan(event.record));
      if (tensor !== undefined) {
        boolInitializers.set(tensor.name, tensor.scalar);
      }
    }
  }
  return { graph, opset, nodes, boolInitializers };
}

function readNode(model: Uint8Array, span: FieldSpan, index: number): GraphNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const strings = new Map<number, string>();
  let boolValue: BoolScalar | undefined;
  for (const field of messageFields(model, span.valueStart, span.end)) {
    if (field.wireType !== WireType.LEN) {
      continue;
    }
    const text = (): string => utf8(model, field.span);
    if (field.number === NodeField.INPUT) {
      inputs.push(text());
    } else if (field.number === NodeField.OUTPUT) {
      outputs.push(text());
    } else if (field.number === NodeField.ATTRIBUTE) {
      boolValue ??= readValueAttribute(model, field.span);
    } else if (
      field.number === NodeField.NAME ||
      field.number === NodeField.OP_TYPE ||
      field.number === NodeField.DOMAIN
    ) {
      strings.set(field.number, text());
    }
  }
  const opType = strings.get(NodeField.OP_TYPE) ?? '';
  const node = { index, span, name: strings.get(NodeField.NAME) ?? '', opType, inputs, outputs };
  return {
    ...node,
    domain: strings.get(NodeField.DOMAIN) ?? '',
    ...(opType === 'Constant' && boolValue ? { boolValue } : {}),
  };
}

/** A Constant's `value` attribute, when it is a bool scalar. */
function readValueAttribute(model: Uint8Array, span: FieldSpan): BoolScalar | undefined {
  let name = '';
  let tensor: FieldSpan | undefined;
  for (const field of messageFields(model, span.valueStart, span.end)) {
    if (field.number === AttributeField.NAME && field.wireType === WireType.LEN) {
      name = utf8(model, field.span);
    } else if (field.number === AttributeField.T && field.wireType === WireType.LEN) {
      tensor = field.span;
    }
  }
  return name === 'value' && tensor ? readBoolScalar(model, tensor)?.scalar : undefined;
}

/** A TensorProto holding one bool in one byte (raw_data, or int32_data packed or not), with its name. */
function readBoolScalar(model: Uint8Array, span: FieldSpan): { name: string; scalar: BoolScalar } | undefined {
  let dataType = 0;
  let name = '';
  let elements = 1;
  const values: FieldSpan[] = [];
  for (const field of messageFields(model, span.valueStart, span.end)) {
    if (field.number === TensorField.DATA_TYPE && field.wireType === WireType.VARINT) {
      dataType = Reader.create(model.subarray(field.span.valueStart, field.span.end)).uint32();
    } else if (field.number === TensorField.DIMS) {
      elements *= dimsProduct(model, field);
    } else if (field.number === TensorField.NAME && field.wireType === WireType.LEN) {
      name = utf8(model, field.span);
    } else if (field.number === TensorField.RAW_DATA || field.number === TensorField.INT32_DATA) {
      values.push(field.span);
    }
  }
  const only = values.length === 1 ? values[0] : undefined;
  if (dataType !== BOOL || elements !== 1 || only === undefined || only.end - only.valueStart !== 1) {
    return undefined;
  }
  const byte = model[only.valueStart] ?? 0;
  return byte > 1 ? undefined : { name, scalar: { value: byte === 1, byteOffset: only.valueStart } };
}

function dimsProduct(model: Uint8Array, field: Field): number {
  const reader = Reader.create(model.subarray(field.span.valueStart, field.span.end));
  let product = 1;
  while (reader.pos < reader.len) {
    product *= readInt64(reader);
  }
  return product;
}

/** The version of the default (ai.onnx) domain in one OperatorSetIdProto, or 0 for another domain. */
function defaultOpset(model: Uint8Array, span: FieldSpan): number {
  let domain = '';
  let version = 0;
  for (const field of messageFields(model, span.valueStart, span.end)) {
    if (field.number === 1 && field.wireType === WireType.LEN) {
      domain = utf8(model, field.span);
    } else if (field.number === 2 && field.wireType === WireType.VARINT) {
      version = readInt64(Reader.create(model.subarray(field.span.valueStart, field.span.end)));
    }
  }
  return domain === '' || domain === 'ai.onnx' ? version : 0;
}

function utf8(model: Uint8Array, span: FieldSpan): string {
  return Buffer.from(model.buffer, model.byteOffset + span.valueStart, span.end - span.valueStart).toString('utf8');
}

/** An int64 varint as a number (protobufjs returns a Long when long.js is installed). */
function readInt64(reader: Reader): number {
  const value = reader.int64();
  return typeof value === 'number' ? value : value.high * 2 ** 32 + (value.low >>> 0);
}

import { Writer } from 'protobufjs/minimal';
import { encodeFloatValues } from './float/encoding';
import { GraphField, ModelField, TensorField, WireType } from './schema';

/** A graph node; `attributes` are INT attributes (`axis`, `transB`, ...), the only kind the server's models need. */
export interface NodeSpec {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, number>>;
}

/** A float32 initializer, stored as raw_data as exporters write it. */
export interface InitializerSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

/** A float32 graph input or output; a string dimension is symbolic (a free batch size). */
export interface ValueSpec {
  readonly name: string;
  readonly shape: readonly (number | string)[];
}

/** A whole single-graph model of the default (ai.onnx) domain. */
export interface ModelSpec {
  readonly producerName: string;
  readonly graphName: string;
  readonly opset: number;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly InitializerSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
}

/** IR version 8 (ONNX 1.10+), which every supported onnxruntime reads. */
const IR_VERSION = 8;
/** TensorProto.DataType FLOAT and AttributeProto.AttributeType INT. */
const FLOAT = 1;
const ATTRIBUTE_INT = 2;
const NODE = { INPUT: 1, OUTPUT: 2, NAME: 3, OP_TYPE: 4, ATTRIBUTE: 5 } as const;
const ATTRIBUTE = { NAME: 1, I: 3, TYPE: 20 } as const;

/**
 * Encodes a float32 model field by field, for models the server makes itself (the demo data). Only valid models can
 * be described: float32 raw_data initializers, fixed or symbolic dimensions, INT attributes.
 */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(ModelField.IR_VERSION, WireType.VARINT)).int64(IR_VERSION);
  w.uint32(tag(ModelField.PRODUCER_NAME, WireType.LEN)).string(spec.producerName);
  w.uint32(tag(ModelField.GRAPH, WireType.LEN)).bytes(encodeGraph(spec));
  // OperatorSetIdProto: field 2 is the version; no domain means ai.onnx.
  w.uint32(tag(ModelField.OPSET_IMPORT, WireType.LEN))
    .fork()
    .uint32(tag(2, WireType.VARINT))
    .int64(spec.opset)
    .ldelim();
  return w.finish();
}

function encodeGraph(spec: ModelSpec): Uint8Array {
  const w = Writer.create();
  spec.nodes.forEach((node) => w.uint32(tag(GraphField.NODE, WireType.LEN)).bytes(encodeNode(node)));
  w.uint32(tag(GraphField.NAME, WireType.LEN)).string(spec.graphName);
  spec.initializers.forEach((tensor) =>
    w.uint32(tag(GraphField.INITIALIZER, WireType.LEN)).bytes(encodeTensor(tensor)),
  );
  spec.inputs.forEach((value) => w.uint32(tag(GraphField.INPUT, WireType.LEN)).bytes(encodeValue(value)));
  spec.outputs.forEach((value) => w.uint32(tag(GraphField.OUTPUT, WireType.LEN)).bytes(encodeValue(value)));
  return w.finish();
}

function encodeNode(node: NodeSpec): Uint8Array {
  const w = Writer.create();
  node.inputs.forEach((input) => w.uint32(tag(NODE.INPUT, WireType.LEN)).string(input));
  node.outputs.forEach((output) => w.uint32(tag(NODE.OUTPUT, WireType.LEN)).string(output));
  w.uint32(tag(NODE.NAME, WireType.LEN)).string(node.name);
  w.uint32(tag(NODE.OP_TYPE, WireType.LEN)).string(node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.uint32(tag(NODE.ATTRIBUTE, WireType.LEN))
      .fork()
      .uint32(tag(ATTRIBUTE.NAME, WireType.LEN))
      .string(name)
      .uint32(tag(ATTRIBUTE.I, WireType.VARINT))
      .int64(value)
      .uint32(tag(ATTRIBUTE.TYPE, WireType.VARINT))
      .int32(ATTRIBUTE_INT)
      .ldelim();
  }
  return w.finish();
}

function encodeTensor(tensor: InitializerSpec): Uint8Array {
  const w = Writer.create();
  tensor.dims.forEach((dim) => w.uint32(tag(TensorField.DIMS, WireType.VARINT)).int64(dim));
  w.uint32(tag(TensorField.DATA_TYPE, WireType.VARINT)).int32(FLOAT);
  w.uint32(tag(TensorField.NAME, WireType.LEN)).string(tensor.name);
  w.uint32(tag(TensorField.RAW_DATA, WireType.LEN)).bytes(encodeFloatValues(tensor.values, 'float32'));
  return w.finish();
}

/** ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type, shape: { dim: [value | param] } } } }. */
function encodeValue(value: ValueSpec): Uint8Array {
  const shape = Writer.create();
  for (const dim of value.shape) {
    shape.uint32(tag(1, WireType.LEN)).fork();
    if (typeof dim === 'number') {
      shape.uint32(tag(1, WireType.VARINT)).int64(dim);
    } else {
      shape.uint32(tag(2, WireType.LEN)).string(dim);
    }
    shape.ldelim();
  }
  const tensorType = Writer.create()
    .uint32(tag(1, WireType.VARINT))
    .int32(FLOAT)
    .uint32(tag(2, WireType.LEN))
    .bytes(shape.finish())
    .finish();
  const type = Writer.create().uint32(tag(1, WireType.LEN)).bytes(tensorType).finish();
  return Writer.create()
    .uint32(tag(1, WireType.LEN))
    .string(value.name)
    .uint32(tag(2, WireType.LEN))
    .bytes(type)
    .finish();
}

function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

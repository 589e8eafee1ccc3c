import { Writer } from 'protobufjs/minimal';
import { encodeVarint, skipVarint } from '../onnx/wire';
import { invalidInput } from '../errors';
import type { BoolScalar, GraphIndex, GraphNode } from '../onnx/graph-index';
import { indexGraph } from '../onnx/graph-index';
import { messageFields } from '../onnx/message-fields';

/** A Dropout node of a model's graph and the training mode its graph gives it. */
export interface DropoutNode {
  readonly index: number;
  readonly name: string;
  /** From a constant, an initializer or a missing input (false); undefined when a graph input or a node computes it. */
  readonly training: boolean | undefined;
}

/** The ai.onnx opset from which Dropout takes `training_mode` as an input. */
const TRAINING_MODE_OPSET = 12;
/** The Constant this module adds when a Dropout must train and nothing it could flip feeds it. */
const TRAINING_CONSTANT = 'roundhouse_dropout_training_mode';
const GRAPH_NODE_TAG = (1 << 3) | 2;
/** TensorProto.DataType BOOL and AttributeProto.AttributeType TENSOR. */
const BOOL = 9;
const ATTRIBUTE_TENSOR = 4;

/** The Dropout nodes of a model's top-level graph, in graph order (none: the model cannot do MC dropout). */
export function dropoutNodes(model: Uint8Array): DropoutNode[] {
  const graph = indexGraph(model);
  return dropoutsOf(graph).map((node) => ({ index: node.index, name: node.name, training: trainingOf(graph, node) }));
}

/**
 * The model with every Dropout's `training_mode` set to `training`, keeping every other byte where it can: a bool
 * Constant or initializer feeding only Dropouts' `training_mode` is flipped in place (one byte); otherwise the
 * node's inputs are rewritten (the input dropped for false, pointed at an added Constant true for true) and the
 * graph's length prefix fixed. With `training` false, inference matches a model exported in eval mode; with true,
 * run it with `graphOptimizationLevel: 'disabled'`, or onnxruntime removes the Dropouts anyway.
 * @throws AppError invalid_input when training is asked of an opset older than 12, whose Dropout has no such input.
 */
export function withDropoutTraining(model: Uint8Array, training: boolean): Uint8Array {
  const graph = indexGraph(model);
  const dropouts = dropoutsOf(graph);
  if (training && dropouts.length > 0 && graph.opset < TRAINING_MODE_OPSET) {
    throw invalidInput(
      `the model imports opset ${graph.opset}; Dropout takes training_mode from opset ${TRAINING_MODE_OPSET}: export with opset_version >= ${TRAINING_MODE_OPSET}`,
    );
  }
  // A copy, not `slice()`: on a Node Buffer that returns a view and the caller's bytes would change.
  const patched = new Uint8Array(model);
  const rewrites: GraphNode[] = [];
  for (const node of dropouts) {
    const flag = flippable(graph, dropouts, node);
    if (flag !== undefined) {
      patched[flag.byteOffset] = training ? 1 : 0;
    } else if (training || (node.inputs[2] ?? '') !== '') {
      rewrites.push(node);
    }
  }
  return rewrites.length === 0 ? patched : rebuildGraph(patched, graph, rewrites, training);
}

function dropoutsOf(graph: GraphIndex): GraphNode[] {
  return graph.nodes.filter((node) => node.opType === 'Dropout' && (node.domain === '' || node.domain === 'ai.onnx'));
}

function trainingOf(graph: GraphIndex, node: GraphNode): boolean | undefined {
  const input = node.inputs[2] ?? '';
  return input === '' ? false : boolProducer(graph, input)?.value;
}

function boolProducer(graph: GraphIndex, name: string): BoolScalar | undefined {
  const constant = graph.nodes.find((node) => node.outputs[0] === name)?.boolValue;
  return constant ?? graph.boolInitializers.get(name);
}

/** The byte to flip for this Dropout: its training_mode's bool scalar, when nothing but training_mode reads it. */
function flippable(graph: GraphIndex, dropouts: readonly GraphNode[], dropout: GraphNode): BoolScalar | undefined {
  const input = dropout.inputs[2] ?? '';
  const producer = input === '' ? undefined : boolProducer(graph, input);
  const onlyTrainingMode = graph.nodes.every((node) =>
    node.inputs.every((name, slot) => name !== input || (slot === 2 && dropouts.includes(node))),
  );
  return onlyTrainingMode ? producer : undefined;
}

/** The model with the given Dropouts' inputs rewritten (and, for training, a Constant true before the first node). */
function rebuildGraph(model: Uint8Array, graph: GraphIndex, rewrites: GraphNode[], training: boolean): Uint8Array {
  const pieces: Uint8Array[] = [];
  let cursor = graph.graph.valueStart;
  const first = graph.nodes[0];
  if (training && first !== undefined) {
    pieces.push(model.subarray(cursor, first.span.start), constantTrueNode());
    cursor = first.span.start;
  }
  for (const node of rewrites) {
    const inputs = training
      ? [node.inputs[0] ?? '', node.inputs[1] ?? '', TRAINING_CONSTANT]
      : trimOptional(node.inputs.slice(0, 2));
    pieces.push(model.subarray(cursor, node.span.start), withInputs(model, node, inputs));
    cursor = node.span.end;
  }
  pieces.push(model.subarray(cursor, graph.graph.end));
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const tagEnd = skipVarint(model, graph.graph.start);
  return Buffer.concat([model.subarray(0, tagEnd), encodeVarint(length), ...pieces, model.subarray(graph.graph.end)]);
}

/** The node record with its input fields replaced by `inputs` where the first stood; other fields keep their bytes. */
function withInputs(model: Uint8Array, node: GraphNode, inputs: readonly string[]): Uint8Array {
  const pieces: Uint8Array[] = [];
  let written = false;
  for (const field of messageFields(model, node.span.valueStart, node.span.end)) {
    if (field.number !== 1) {
      pieces.push(model.subarray(field.span.start, field.span.end));
    } else if (!written) {
      const writer = Writer.create();
      inputs.forEach((name) => writer.uint32((1 << 3) | 2).string(name));
      pieces.push(writer.finish());
      written = true;
    }
  }
  return Writer.create().uint32(GRAPH_NODE_TAG).bytes(Buffer.concat(pieces)).finish();
}

/** A graph node record: Constant `value` = bool scalar true, output TRAINING_CONSTANT. */
function constantTrueNode(): Uint8Array {
  const tensor = Writer.create()
    .uint32((2 << 3) | 0)
    .uint32(BOOL)
    .uint32((9 << 3) | 2)
    .bytes(Uint8Array.of(1));
  const attribute = Writer.create()
    .uint32((1 << 3) | 2)
    .string('value')
    .uint32((5 << 3) | 2)
    .bytes(tensor.finish())
    .uint32((20 << 3) | 0)
    .uint32(ATTRIBUTE_TENSOR);
  const node = Writer.create()
    .uint32((2 << 3) | 2)
    .string(TRAINING_CONSTANT)
    .uint32((3 << 3) | 2)
    .string(TRAINING_CONSTANT)
    .uint32((4 << 3) | 2)
    .string('Constant')
    .uint32((5 << 3) | 2)
    .bytes(attribute.finish());
  return Writer.create().uint32(GRAPH_NODE_TAG).bytes(node.finish()).finish();
}

/** Drops trailing empty names: an optional input left out is the same as an empty one, and shorter. */
function trimOptional(inputs: string[]): string[] {
  while (inputs.length > 1 && inputs[inputs.length - 1] === '') {
    inputs.pop();
  }
  return inputs;
}

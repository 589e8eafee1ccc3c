import { createHash } from 'node:crypto';
import { Reader } from 'protobufjs/minimal';
import { malformed } from '../aggregation/errors';
import type { TensorInfo } from './manifest';
import type { FieldRecord } from './walk';
import { GraphField, ModelField } from './schema';

/** One structural piece of a model (a node, an input, an opset import, an initializer's manifest entry). */
export interface StructureEntry {
  /** How messages name it: `node 2 "/1/Gemm" (Gemm)`, `graph input "input"`, `initializer "fc.weight"`. */
  readonly label: string;
  /** SHA-256 (hex) of its canonical bytes. */
  readonly hash: string;
  /** Set for initializers: their manifest entry. */
  readonly tensor?: TensorInfo;
}

/**
 * Fields that only document a model and differ between clients' machines (producer version, docstrings, and the
 * stack traces newer exporters put in metadata_props): left out of the digest so they never fail an upload.
 */
const DOC_MODEL_FIELDS: ReadonlySet<number> = new Set([
  ModelField.PRODUCER_NAME,
  ModelField.PRODUCER_VERSION,
  ModelField.DOMAIN,
  ModelField.MODEL_VERSION,
  ModelField.DOC_STRING,
  ModelField.METADATA_PROPS,
]);
const DOC_GRAPH_FIELDS: ReadonlySet<number> = new Set([GraphField.DOC_STRING, GraphField.METADATA_PROPS]);
/** NodeProto doc_string (6) and metadata_props (9); ValueInfoProto doc_string (3) and metadata_props (4). */
const DOC_NODE_FIELDS: ReadonlySet<number> = new Set([6, 9]);
const DOC_VALUE_INFO_FIELDS: ReadonlySet<number> = new Set([3, 4]);

const MODEL_FIELD_NAMES: ReadonlyMap<number, string> = new Map([
  [ModelField.IR_VERSION, 'ir_version'],
  [ModelField.OPSET_IMPORT, 'opset_import'],
  [ModelField.TRAINING_INFO, 'training_info'],
  [ModelField.FUNCTIONS, 'functions'],
  [ModelField.CONFIGURATION, 'configuration'],
]);
const VALUE_INFO_LABELS: ReadonlyMap<number, string> = new Map([
  [GraphField.INPUT, 'graph input'],
  [GraphField.OUTPUT, 'graph output'],
  [GraphField.VALUE_INFO, 'value_info'],
]);

/** The entry of a top-level model field, or undefined for a documentation field. */
export function describeModelField(record: FieldRecord): StructureEntry | undefined {
  if (DOC_MODEL_FIELDS.has(record.field)) {
    return undefined;
  }
  const label = `model field ${MODEL_FIELD_NAMES.get(record.field) ?? record.field}`;
  return { label, hash: hashParts('model', record.header, record.payload) };
}

/** The entry of a graph field other than an initializer; `nodeIndex` numbers nodes from 0. */
export function describeGraphField(record: FieldRecord, nodeIndex: number): StructureEntry | undefined {
  if (DOC_GRAPH_FIELDS.has(record.field)) {
    return undefined;
  }
  if (record.field === GraphField.NODE) {
    const node = canonicalMessage(record.payload, DOC_NODE_FIELDS, [3, 4], 'a graph node');
    const name = node.strings.get(3) ?? '';
    const label = `node ${nodeIndex} "${name}" (${node.strings.get(4) ?? '?'})`;
    return { label, hash: hashParts('node', ...node.parts) };
  }
  const valueInfo = VALUE_INFO_LABELS.get(record.field);
  if (valueInfo !== undefined) {
    const info = canonicalMessage(record.payload, DOC_VALUE_INFO_FIELDS, [1], valueInfo);
    return { label: `${valueInfo} "${info.strings.get(1) ?? ''}"`, hash: hashParts(valueInfo, ...info.parts) };
  }
  const label = record.field === GraphField.NAME ? 'graph name' : `graph field ${record.field}`;
  return { label, hash: hashParts('graph', record.header, record.payload) };
}

/** The entry of an initializer: only its manifest entry counts, never its values. */
export function describeInitializer(info: TensorInfo): StructureEntry {
  const canonical = `${info.name}\u0000${info.dataType}\u0000${info.shape.join(',')}`;
  return { label: `initializer "${info.name}"`, hash: hashParts('initializer', Buffer.from(canonical)), tensor: info };
}

/** The marker for where the graph sits among the model's fields. */
export function describeGraphStart(): StructureEntry {
  return { label: 'graph', hash: hashParts('graph-start') };
}

/** The graph digest: SHA-256 over the entries' hashes in order. */
export function digestStructure(entries: readonly StructureEntry[]): string {
  const hash = createHash('sha256');
  for (const entry of entries) {
    hash.update(entry.hash, 'hex');
  }
  return hash.digest('hex');
}

/** A message's fields minus `strip`, as byte parts in order, and the string fields `labels` (for messages). */
function canonicalMessage(
  payload: Uint8Array,
  strip: ReadonlySet<number>,
  labels: readonly number[],
  what: string,
): { parts: Uint8Array[]; strings: Map<number, string> } {
  const reader = Reader.create(payload);
  const parts: Uint8Array[] = [];
  const strings = new Map<number, string>();
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.uint32();
      if ((tag & 7) === 2 && labels.includes(tag >>> 3) && !strings.has(tag >>> 3)) {
        const end = reader.uint32() + reader.pos;
        if (end > reader.len) {
          throw new Error('a field runs past the end');
        }
        strings.set(tag >>> 3, Buffer.from(payload.subarray(reader.pos, end)).toString('utf8'));
        reader.pos = end;
      } else {
        reader.skipType(tag & 7);
      }
      if (!strip.has(tag >>> 3)) {
        parts.push(payload.subarray(start, reader.pos));
      }
    }
  } catch (error) {
    throw malformed(`${what} does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { parts, strings };
}

function hashParts(kind: string, ...parts: Uint8Array[]): string {
  const hash = createHash('sha256').update(kind).update('\u0000');
  for (const part of parts) {
    hash.update(part);
  }
  return hash.digest('hex');
}

import { AggregationError } from '../aggregation/errors';
import type { RandomAccess } from '../storage/random-access';
import { encodeFloatValues } from './float/encoding';
import type { TensorInfo } from './manifest';
import { scanOnnxModel } from './scan';
import { ModelScanner } from './scan';
import type { ModelSource } from './model-source';
import { coalesceChunks, openSource } from './model-source';
import type { ModelSummary } from './summary';
import { walkModel, walkModelAt } from './reader';
import type { ModelEvent } from './walk';
import { dtypeBytes, floatDType } from './schema';
import { canSplice, payloadSlice, recordGrowth, rewriteRecord, spliceRecord } from './tensor-rewrite';
import type { TensorRecord } from './tensor-record';
import type { FieldRecord } from './walk';
import { encodeVarint } from './wire';

/** Pieces below this size are merged (and so copied) by `coalesceChunks`. */
const COALESCE_BYTES = 1 << 16;

/** New raw (little-endian) bytes for one initializer, asked for in graph order while the template streams by. */
export type RawValueProvider = (info: TensorInfo, index: number) => Uint8Array;

/**
 * Streams `template` with the initializers named in `replaced` given new values, keeping every other byte: raw_data
 * is overwritten in place; a tensor stored in typed fields is rewritten as raw_data and the enclosing length
 * prefixes are fixed. `summary` must describe the same template; the template is checked against it as it streams.
 */
export async function* spliceModel(
  template: AsyncIterable<Uint8Array>,
  summary: ModelSummary,
  replaced: ReadonlySet<string>,
  valuesFor: RawValueProvider,
): AsyncGenerator<Uint8Array> {
  yield* splice(walkModel(template, true), undefined, summary, replaced, valuesFor);
}

/**
 * `spliceModel` over a template read by position: the raw_data of the replaced tensors is never read, so writing
 * the result reads little more than the template's graph; kept float values are copied a chunk at a time.
 */
export async function* spliceModelAt(
  template: RandomAccess,
  summary: ModelSummary,
  replaced: ReadonlySet<string>,
  valuesFor: RawValueProvider,
): AsyncGenerator<Uint8Array> {
  yield* splice(walkModelAt(template), template, summary, replaced, valuesFor);
}

async function* splice(
  events: AsyncIterable<ModelEvent>,
  access: RandomAccess | undefined,
  summary: ModelSummary,
  replaced: ReadonlySet<string>,
  valuesFor: RawValueProvider,
): AsyncGenerator<Uint8Array> {
  // Byte sizes of the replaced tensors are known up front, so the graph's new length prefix can be written first.
  const sizes = summary.manifest.map((info) =>
    replaced.has(info.name) && info.elementCount > 0 ? info.elementCount * (dtypeBytes(info.dataType) ?? 0) : undefined,
  );
  const growth = summary.layout.reduce((sum, layout, i) => {
    const size = sizes[i];
    return size === undefined ? sum : sum + recordGrowth(layout, size);
  }, 0);
  yield* coalesceChunks(emit(events, access, summary, sizes, growth, valuesFor), COALESCE_BYTES);
}

/** Writes a template model with new float initializer values, each converted to its tensor's float type. */
export async function* writeModel(
  template: ModelSource,
  values: ReadonlyMap<string, ArrayLike<number>>,
): AsyncGenerator<Uint8Array> {
  const summary = await scanOnnxModel(openSource(template));
  for (const name of values.keys()) {
    const info = summary.manifest.find((entry) => entry.name === name);
    if (info === undefined || !info.isFloat) {
      const message = `the template has no float initializer "${name}"`;
      throw new AggregationError('model_values_invalid', message, { tensor: name });
    }
  }
  yield* spliceModel(openSource(template), summary, new Set(values.keys()), (info) =>
    encodeFloatValues(values.get(info.name) ?? [], floatDType(info.dataType) ?? 'float32'),
  );
}

async function* emit(
  events: AsyncIterable<ModelEvent>,
  access: RandomAccess | undefined,
  summary: ModelSummary,
  sizes: readonly (number | undefined)[],
  growth: number,
  valuesFor: RawValueProvider,
): AsyncGenerator<Uint8Array> {
  const scanner = new ModelScanner(summary);
  // The walker reuses its buffer: replaced raw_data is never yielded, small pieces are copied by coalesceChunks,
  // and large template pieces go through `own`, so the template costs no garbage per tensor.
  for await (const event of events) {
    const tensor = scanner.accept(event);
    if (event.kind === 'graph_begin') {
      yield own(event.tag);
      // An unchanged length keeps the template's own varint bytes, even a non-minimal encoding.
      yield growth === 0 ? event.lengthBytes : encodeVarint(event.length + growth);
    } else if (event.kind !== 'graph_end') {
      const size = tensor === undefined ? undefined : sizes[tensor.index];
      const layout = tensor === undefined ? undefined : summary.layout[tensor.index];
      if (tensor === undefined || size === undefined || layout === undefined) {
        yield own(event.record.header);
        if (tensor?.record.elided === undefined || access === undefined) {
          yield own(event.record.payload);
        } else {
          yield* keptValues(event.record, tensor.record, access);
        }
        continue;
      }
      const bytes = valuesFor(tensor.info, tensor.index);
      if (bytes.length !== size) {
        const message = `new values of "${tensor.info.name}" have ${bytes.length} bytes, not ${size}`;
        throw new AggregationError('model_values_invalid', message, { tensor: tensor.info.name });
      }
      const pieces = canSplice(layout, size)
        ? spliceRecord(event.record, tensor.record, bytes)
        : rewriteRecord(event.record, tensor.record, bytes);
      yield* pieces.map((piece) => (piece === bytes ? piece : own(piece)));
    }
  }
  scanner.finish();
}

/** Bytes read at a time when a kept tensor's skipped values are copied from the template. */
const COPY_BYTES = 1 << 20;

/** A TensorProto whose raw_data the walk skipped, as stored: its values read back from the template in chunks. */
async function* keptValues(
  record: FieldRecord,
  tensor: TensorRecord,
  access: RandomAccess,
): AsyncGenerator<Uint8Array> {
  const raw = tensor.rawData ?? { start: 0, end: 0 };
  const skipped = tensor.elided ?? { position: 0, length: 0 };
  yield own(payloadSlice(record, tensor, 0, raw.start));
  for (let done = 0; done < skipped.length; done += COPY_BYTES) {
    const chunk = new Uint8Array(Math.min(COPY_BYTES, skipped.length - done));
    if ((await access.readInto(chunk, skipped.position + done)) !== chunk.length) {
      throw new AggregationError(
        'model_truncated',
        `the template changed while it was read: "${tensor.name}" ends early`,
      );
    }
    yield chunk;
  }
  yield own(payloadSlice(record, tensor, raw.end));
}

/** A copy of a large template piece (it may sit in the walker's reused buffer); small ones are copied downstream. */
function own(piece: Uint8Array): Uint8Array {
  return piece.length >= COALESCE_BYTES ? piece.slice() : piece;
}

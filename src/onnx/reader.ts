import type { RandomAccess } from '../storage/random-access';
import { BufferCursor } from './byte-cursor';
import { ByteSource } from './byte-source';
import { PositionalSource } from './positional-source';
import type { ModelEvent } from './walk';
import type { WindowCursor } from './window-cursor';
import { walkSteps } from './walk';

/**
 * Walks ModelProto -> graph (7) -> initializer (5) over a chunked stream, buffering one field at a time (at most
 * one TensorProto), so reading a model never costs more than its largest tensor. Hand-written because protobuf
 * libraries decode a whole message at once. With `reuseBuffers`, an event's bytes are valid only until the next
 * event (for consumers that finish with each event before asking for the next, such as scans and folds).
 */
export async function* walkModel(chunks: AsyncIterable<Uint8Array>, reuseBuffers = false): AsyncGenerator<ModelEvent> {
  const source = new ByteSource(chunks, reuseBuffers);
  try {
    yield* drive(source);
  } finally {
    // Also when the consumer stops at a refused update: the stream must not stay open.
    await source.close();
  }
}

/**
 * The same walk over a model read by position, which skips the raw_data of float initializers instead of reading
 * it (`FieldRecord.elided` says where those bytes are). An event's bytes are valid only until the next event.
 */
export function walkModelAt(access: RandomAccess): AsyncGenerator<ModelEvent> {
  return drive(new PositionalSource(access));
}

/** Runs the walk, filling each need from the source before the walk reads. */
async function* drive(source: WindowCursor): AsyncGenerator<ModelEvent> {
  for (const step of walkSteps(source)) {
    if (step.kind !== 'need') {
      yield step;
    } else if (!source.holds(step)) {
      await source.fill(step);
    }
  }
}

/**
 * The same walk over a model held whole (inference holds it anyway), with the same checks and errors: events whose
 * bytes are views into `model` and whose offsets index it.
 */
export function* walkModelBytes(model: Uint8Array): Generator<ModelEvent> {
  for (const step of walkSteps(new BufferCursor(model))) {
    if (step.kind !== 'need') {
      yield step;
    }
  }
}

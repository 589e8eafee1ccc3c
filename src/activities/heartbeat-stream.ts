import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { type ModelSource, openSource, withAccess } from '../onnx/model-source';
import type { BlobStore } from '../storage/blob-store';
import type { RandomAccess } from '../storage/random-access';

/**
 * A model source that heartbeats with every chunk read, so a long aggregation keeps its activity alive exactly as
 * long as it makes progress, and stops at the next chunk once the activity is cancelled.
 */
export function heartbeatingSource(source: ModelSource, details: string): ModelSource {
  return () => heartbeatingChunks(openSource(source), details);
}

/**
 * A stored blob as a model source that heartbeats with every read, streamed or by position (the engine reads stored
 * updates by position, a chunk at a time).
 */
export function heartbeatingBlob(blobs: BlobStore, digest: string, details: string): ModelSource {
  return withAccess(
    heartbeatingSource(() => blobs.read(digest), details),
    async () => heartbeatingAccess(await blobs.openAccess(digest), details),
  );
}

/** Positional reads that heartbeat with each read and stop once the activity is cancelled. */
function heartbeatingAccess(access: RandomAccess, details: string): RandomAccess {
  return {
    size: access.size,
    readInto: (into, position) => {
      cancellationSignal().throwIfAborted();
      heartbeat(details);
      return access.readInto(into, position);
    },
    close: () => access.close(),
  };
}

/** Passes chunks through, heartbeating with each one (the SDK throttles what it sends). */
export async function* heartbeatingChunks(
  chunks: AsyncIterable<Uint8Array>,
  details: string,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    cancellationSignal().throwIfAborted();
    heartbeat(details);
    yield chunk;
  }
}

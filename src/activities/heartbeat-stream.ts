import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { type ModelSource, openSource } from '../onnx/model-source';

/**
 * A model source that heartbeats with every chunk read, so a long aggregation keeps its activity alive exactly as
 * long as it makes progress, and stops at the next chunk once the activity is cancelled.
 */
export function heartbeatingSource(source: ModelSource, details: string): ModelSource {
  return () => heartbeatingChunks(openSource(source), details);
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

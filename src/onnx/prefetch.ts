/** The most chunks ever requested ahead, whatever their size. */
const MAX_DEPTH = 64;

/**
 * Pulls chunks ahead of the consumer, up to about `aheadBytes`, so reading (a file, a blob store) overlaps the work
 * done on chunks already read instead of alternating with it: the engine buffers a whole tensor before folding it,
 * and without read-ahead a stream sits idle during every fold. The depth follows the size of the chunks seen (one
 * at first). Stopping early closes the source.
 */
export async function* prefetch(chunks: AsyncIterable<Uint8Array>, aheadBytes: number): AsyncGenerator<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  const pending: Promise<IteratorResult<Uint8Array>>[] = [];
  let depth = 1;
  let finished = false;
  try {
    for (;;) {
      while (pending.length < depth) {
        // Async iterators (Readable's included) queue overlapping next() calls and settle them in order.
        pending.push(iterator.next());
      }
      const next = await pending.shift();
      if (next === undefined || next.done === true) {
        finished = true;
        return;
      }
      depth = Math.max(1, Math.min(MAX_DEPTH, Math.floor(aheadBytes / Math.max(1, next.value.length))));
      yield next.value;
    }
  } finally {
    // Read-ahead calls may still settle (or fail) after we stop; their results are not wanted.
    pending.forEach((call) => {
      call.catch(() => undefined);
    });
    if (!finished) {
      await iterator.return?.();
    }
  }
}

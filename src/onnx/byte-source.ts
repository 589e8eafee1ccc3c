import { prefetch } from './prefetch';
import type { Need } from './walk';
import { WindowCursor } from './window-cursor';
import { concatBytes, holdsVarint, MAX_VARINT_BYTES } from './wire';

/** Bytes read ahead of the walker: a fixed few MiB, small beside a model, that keep a stream busy during a fold. */
const READ_AHEAD_BYTES = 4 << 20;

/**
 * The model walk's cursor over a chunked byte stream. Before each read the walk says what it needs; `fill` then
 * makes those bytes one contiguous window: the current chunk when they sit in it, else the bytes of that one read
 * gathered from the chunks they span (one copy). It holds only the window and the rest of the chunk the window
 * ends in, so a model is never held whole. Returned arrays may be views into a source chunk.
 */
export class ByteSource extends WindowCursor {
  private readonly iterator: AsyncIterator<Uint8Array>;
  /** The part of a chunk that follows a gathered window, read before the next chunk. */
  private rest: Uint8Array | undefined;
  private done = false;
  private scratch = new Uint8Array(0);

  /**
   * @param reuse when true, reads that span chunks are gathered into one buffer reused from read to read, so a scan
   *   over many large updates leaves no garbage per tensor; a result is then valid only until the next such read.
   */
  constructor(
    chunks: AsyncIterable<Uint8Array>,
    private readonly reuse = false,
  ) {
    super();
    this.iterator = prefetch(chunks, READ_AHEAD_BYTES)[Symbol.asyncIterator]();
  }

  /**
   * Reads on until the window holds what `need` asks for. At the end of the stream the window is left empty at the
   * stream's end, so the read that follows reports the model truncated there.
   */
  async fill(need: Need): Promise<void> {
    if (this.holds(need)) {
      return;
    }
    const varint = need.bytes === 'varint';
    const value = typeof need.bytes === 'number';
    const wanted = need.bytes === 'varint' ? MAX_VARINT_BYTES : need.bytes === 'byte' ? 1 : need.bytes;
    const tail = this.window.subarray(this.pos);
    const parts = tail.length > 0 ? [tail] : [];
    let have = tail.length;
    while (have < wanted) {
      // The rest of a chunk is read in place, like the chunk itself. A field value that starts in a new chunk is
      // gathered even when it fits there, as it always was, so which values are copies (plain arrays rather than a
      // stream's Buffers) does not change.
      const inPlace = !value || this.rest !== undefined;
      const next = await this.pull();
      if (next === undefined) {
        this.moveTo(new Uint8Array(0), have);
        return;
      }
      if (have === 0 && inPlace && (varint ? holdsVarint(next, 0, next.length) : next.length >= wanted)) {
        this.moveTo(next);
        return;
      }
      // A varint takes its bytes up to its last one only: the bytes after it are the next read's, maybe a view.
      const take = varint ? varintBytesIn(next, wanted - have) : Math.min(wanted - have, next.length);
      parts.push(next.subarray(0, take));
      have += take;
      this.rest = take < next.length ? next.subarray(take) : undefined;
      if (varint && (next[take - 1] ?? 0) < 0x80) {
        break;
      }
    }
    // A gathered varint is copied fresh: its bytes become a record's header and must outlive the next gathered read.
    this.moveTo(varint ? concatBytes(parts) : concatBytes(parts, this.target(have)));
  }

  /** Stops reading and releases the source (a file stream closes its descriptor); for readers that stop early. */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }

  /** Makes `window` the bytes read next; it starts `skipped` bytes after the current position. */
  private moveTo(window: Uint8Array, skipped = 0): void {
    this.base += this.pos + skipped;
    this.window = window;
    this.pos = 0;
  }

  /** The next non-empty chunk (or the rest of the last one), or undefined at the end of the stream. */
  private async pull(): Promise<Uint8Array | undefined> {
    const rest = this.rest;
    if (rest !== undefined) {
      this.rest = undefined;
      return rest;
    }
    while (!this.done) {
      const next = await this.iterator.next();
      if (next.done === true) {
        this.done = true;
      } else if (next.value.length > 0) {
        return next.value;
      }
    }
    return undefined;
  }

  private target(length: number): Uint8Array {
    if (!this.reuse) {
      return new Uint8Array(length);
    }
    if (this.scratch.length < length) {
      this.scratch = new Uint8Array(length);
    }
    return this.scratch.subarray(0, length);
  }
}

/** How many bytes of `chunk`, at most `limit`, a varint that continues into it takes: up to its last byte. */
function varintBytesIn(chunk: Uint8Array, limit: number): number {
  const last = Math.min(limit, chunk.length);
  for (let i = 0; i < last; i++) {
    if ((chunk[i] ?? 0) < 0x80) {
      return i + 1;
    }
  }
  return last;
}

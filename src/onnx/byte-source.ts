import { AggregationError, malformed } from '../aggregation/errors';
import { prefetch } from './prefetch';

/** Bytes read ahead of the walker: a fixed few MiB, small beside a model, that keep a stream busy during a fold. */
const READ_AHEAD_BYTES = 4 << 20;

/** Protobuf caps a message at 2 GiB; a larger length prefix is corrupt, and refusing it avoids a huge allocation. */
const MAX_FIELD_LENGTH = 2 ** 31;

/** A varint as read: its value and its exact bytes (kept so a rewritten model reproduces the template's bytes). */
export interface VarintRead {
  readonly value: number;
  readonly bytes: Uint8Array;
}

/**
 * Sequential reader over a chunked byte stream. It holds only the current chunk, plus the bytes of one field while
 * `read` gathers them, so a model is never held whole. Returned arrays may be views into a source chunk.
 */
export class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private before = 0;
  private done = false;
  private scratch = new Uint8Array(0);

  /**
   * @param reuse when true, `read` gathers fields that span chunks into one buffer reused from call to call, so a
   *   scan over many large updates leaves no garbage per tensor; a result is then valid only until the next `read`.
   */
  constructor(
    chunks: AsyncIterable<Uint8Array>,
    private readonly reuse = false,
  ) {
    this.iterator = prefetch(chunks, READ_AHEAD_BYTES)[Symbol.asyncIterator]();
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.before + this.pos;
  }

  /** True once every byte has been consumed and the stream has ended. */
  async atEnd(): Promise<boolean> {
    return !(await this.ensureByte());
  }

  /** Reads a base-128 varint; values above 2^53 lose precision, which only matters for values we never interpret. */
  async readVarint(context: string): Promise<VarintRead> {
    const start = this.pos;
    const fast = this.chunk.length - start >= 10;
    const bytes: number[] = [];
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (!fast && !(await this.ensureByte())) {
        throw this.truncated(context);
      }
      const byte = this.chunk[this.pos++] ?? 0;
      bytes.push(byte);
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) {
        return { value, bytes: fast ? this.chunk.subarray(start, this.pos) : Uint8Array.from(bytes) };
      }
    }
    throw malformed(`invalid varint in ${context} at byte ${this.offset}`);
  }

  /** Reads a length prefix and checks it against the protobuf limit. */
  async readLength(context: string): Promise<VarintRead> {
    const length = await this.readVarint(context);
    if (length.value >= MAX_FIELD_LENGTH) {
      throw malformed(`${context} claims ${length.value} bytes, more than protobuf allows`);
    }
    return length;
  }

  /** Reads exactly `length` bytes: a view when they sit in one chunk, else one copy gathered chunk by chunk. */
  async read(length: number, context: string): Promise<Uint8Array> {
    if (this.chunk.length - this.pos >= length) {
      this.pos += length;
      return this.chunk.subarray(this.pos - length, this.pos);
    }
    const parts: Uint8Array[] = [];
    let missing = length;
    while (missing > 0) {
      if (!(await this.ensureByte())) {
        throw this.truncated(context, length);
      }
      const take = Math.min(missing, this.chunk.length - this.pos);
      parts.push(this.chunk.subarray(this.pos, this.pos + take));
      this.pos += take;
      missing -= take;
    }
    // Gathered only after every part arrived, so a lying length prefix fails as truncated, not as a huge allocation.
    const out = this.target(length);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Stops reading and releases the source (a file stream closes its descriptor); for readers that stop early. */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
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

  private async ensureByte(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) {
        return false;
      }
      const next = await this.iterator.next();
      if (next.done === true) {
        this.done = true;
        return false;
      }
      this.before += this.chunk.length;
      this.chunk = next.value;
      this.pos = 0;
    }
    return true;
  }

  private truncated(context: string, needed?: number): AggregationError {
    const need = needed === undefined ? '' : ` (${needed} bytes needed)`;
    return new AggregationError(
      'model_truncated',
      `the model is truncated: it ends at byte ${this.offset} inside ${context}${need}`,
    );
  }
}

import type { RandomAccess } from '../storage/random-access';
import type { SkippingCursor } from './byte-cursor';
import { truncated } from './byte-cursor';
import type { Need } from './walk';
import { WindowCursor } from './window-cursor';
import { MAX_VARINT_BYTES } from './wire';

/**
 * Bytes read at a time for the walk's small fields: a window starts small after each skip (what it reads past a
 * tensor's header is values, skipped and read again in chunks) and doubles while the walk reads on (graph nodes).
 */
export const MIN_WINDOW_BYTES = 16 << 10;
const MAX_WINDOW_BYTES = 1 << 20;

/**
 * The model walk's cursor over a file read by position: it reads a window at the walk's offset into one buffer
 * reused from read to read, and skips what the walk skips (float values) without reading it. Returned arrays are
 * views into the window, valid until the next `fill`.
 */
export class PositionalSource extends WindowCursor implements SkippingCursor {
  readonly skipsValues = true;
  private buffer = new Uint8Array(MIN_WINDOW_BYTES);
  private windowBytes = MIN_WINDOW_BYTES;

  constructor(private readonly access: RandomAccess) {
    super();
  }

  /** Reads a window at the current offset that holds `need`, or ends with the model. */
  async fill(need: Need): Promise<void> {
    if (this.holds(need)) {
      return;
    }
    const wanted = need.bytes === 'varint' ? MAX_VARINT_BYTES : need.bytes === 'byte' ? 1 : need.bytes;
    const at = this.offset;
    const length = Math.min(Math.max(wanted, this.windowBytes), Math.max(0, this.access.size - at));
    this.windowBytes = Math.min(2 * this.windowBytes, MAX_WINDOW_BYTES);
    if (this.buffer.length < length) {
      this.buffer = new Uint8Array(length);
    }
    const read = await this.access.readInto(this.buffer.subarray(0, length), at);
    this.window = this.buffer.subarray(0, read);
    this.base = at;
    this.pos = 0;
  }

  override atEnd(): boolean {
    return super.atEnd() && this.offset >= this.access.size;
  }

  expect(length: number, context: string): void {
    if (this.access.size - this.offset < length) {
      throw truncated(this.access.size, context, length);
    }
  }

  /** Moves past bytes the walk does not read: the window is dropped once they leave it. */
  skip(length: number): void {
    const left = this.window.length - this.pos;
    if (length <= left) {
      this.pos += length;
      return;
    }
    this.base = this.offset + length;
    this.window = new Uint8Array(0);
    this.pos = 0;
    this.windowBytes = MIN_WINDOW_BYTES;
  }
}

import type { ByteCursor, VarintRead } from './byte-cursor';
import { takeBytes, takeVarint } from './byte-cursor';
import type { Need } from './walk';
import { holdsVarint } from './wire';

/**
 * A cursor over a window of the model, the bytes a reader last brought in: `window` starts at model offset `base`
 * and `pos` is the next byte's index in it. Readers (a stream, positional reads) say how the window is filled.
 */
export abstract class WindowCursor implements ByteCursor {
  protected window: Uint8Array = new Uint8Array(0);
  protected pos = 0;
  protected base = 0;

  /** Brings in a window that holds what `need` asks for, or ends with the model. */
  abstract fill(need: Need): Promise<void>;

  /** The offset of the next byte in the model. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** True when the window already holds what `need` asks for, so the walk can go on without waiting. */
  holds(need: Need): boolean {
    if (need.bytes === 'varint') {
      return holdsVarint(this.window, this.pos, this.window.length);
    }
    return this.window.length - this.pos >= (need.bytes === 'byte' ? 1 : need.bytes);
  }

  /** True once every byte has been consumed (after a `fill` of one byte). */
  atEnd(): boolean {
    return this.pos >= this.window.length;
  }

  /** Reads the varint at the cursor (after a `fill` for it). */
  readVarint(context: string): VarintRead {
    const { read, end } = takeVarint(this.window, this.pos, this.window.length, this.base, context);
    this.pos = end;
    return read;
  }

  /** Reads `length` bytes (after a `fill` of them): a view into the window. */
  read(length: number, context: string): Uint8Array {
    const bytes = takeBytes(this.window, this.pos, this.window.length, this.base, length, context);
    this.pos += length;
    return bytes;
  }
}

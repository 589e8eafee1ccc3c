import { malformed } from './pickle-calls';
import { limit, PICKLE_LIMITS } from './pickle-limits';

/** The scanner's reads of a pickle's operands, each refusing a pickle that ends inside it or exceeds a limit. */
export class PickleInput {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The offset of the next byte. */
  get offset(): number {
    return this.pos;
  }

  u8(what: string): number {
    return this.view.getUint8(this.advance(1, what));
  }

  u16(what: string): number {
    return this.view.getUint16(this.advance(2, what), true);
  }

  u32(what: string): number {
    return this.view.getUint32(this.advance(4, what), true);
  }

  i32(what: string): number {
    return this.view.getInt32(this.advance(4, what), true);
  }

  /** BINFLOAT is the one big-endian operand. */
  f64(what: string): number {
    return this.view.getFloat64(this.advance(8, what), false);
  }

  /** LONG1's little-endian two's-complement integer, refused beyond what a size, stride or offset can be. */
  long1(): number {
    const length = this.u8('LONG1');
    if (length > 8) {
      throw limit(`it holds an integer of ${length} bytes`);
    }
    let value = 0n;
    this.take(length, 'LONG1').forEach((byte, i) => {
      value |= BigInt(byte) << BigInt(8 * i);
    });
    const signed = length > 0 ? BigInt.asIntN(8 * length, value) : 0n;
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw limit(`it holds the integer ${signed}, beyond what a tensor's size, stride or offset can be`);
    }
    return Number(signed);
  }

  /** `length` bytes of UTF-8 text, refused when longer than any key or class name. */
  text(length: number, what: string): string {
    if (length > PICKLE_LIMITS.string) {
      throw limit(`it holds a string of ${length} bytes`);
    }
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(this.take(length, what));
  }

  /** A newline-terminated line of a GLOBAL opcode. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > PICKLE_LIMITS.globalLine) {
      throw malformed(`GLOBAL at byte ${this.pos} has no line end within ${PICKLE_LIMITS.globalLine} bytes`);
    }
    const line = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return line;
  }

  take(length: number, what: string): Uint8Array {
    const at = this.advance(length, what);
    return this.bytes.subarray(at, at + length);
  }

  /** Moves past `length` bytes and returns where they start, refusing a pickle that ends first. */
  private advance(length: number, what: string): number {
    const at = this.pos;
    if (at + length > this.bytes.length) {
      throw malformed(`it ends at byte ${this.bytes.length}, inside ${what}`);
    }
    this.pos = at + length;
    return at;
  }
}

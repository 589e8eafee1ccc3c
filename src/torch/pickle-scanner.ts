import type { TorchArchiveError } from './errors';
import { refusedFile } from './errors';
import { malformed, newObject, persistentLoad, reduce } from './pickle-calls';
import { globalRole } from './pickle-globals';
import { PickleInput } from './pickle-input';
import { limit, PICKLE_LIMITS } from './pickle-limits';
import type { PickleDict, PickleValue } from './pickle-values';
import { describe } from './pickle-values';

/** What the scanner reads: whether the archive is TorchScript (its classes and list builders are allowed). */
export interface ScanOptions {
  readonly torchScript: boolean;
}

/** Opcodes refused by name, each with why, so the message can say what the pickle tried. */
const REFUSED_OPCODES: Readonly<Record<number, string>> = {
  0x69: 'INST (it creates an object by calling a class)',
  0x6f: 'OBJ (it creates an object by calling a class)',
  0x82: 'EXT1 (it loads a global from the copyreg extension registry)',
  0x83: 'EXT2 (it loads a global from the copyreg extension registry)',
  0x84: 'EXT4 (it loads a global from the copyreg extension registry)',
  0x50: 'PERSID (a text persistent id, which PyTorch never writes)',
  0x92: 'NEWOBJ_EX (it creates an object with keyword arguments)',
};

/**
 * Scans a pickle opcode by opcode, simulating its stack with symbolic values (see pickle-values.ts): it builds no
 * Python object and calls nothing. It accepts the opcodes PyTorch writes (protocol 2, and 4's `FRAME`,
 * `STACK_GLOBAL` and `MEMOIZE`), the globals of the allow-list (pickle-globals.ts) and storage persistent ids; it
 * refuses everything else with a `TorchArchiveError` whose message says why and how to save instead.
 * @returns the pickled value, with tensors as records of their storage, offset, shape and strides.
 */
export function scanPickle(bytes: Uint8Array, options: ScanOptions): PickleValue {
  return new Scanner(bytes, options.torchScript).run();
}

class Scanner {
  private readonly input: PickleInput;
  private readonly stack: PickleValue[] = [];
  /** Stack lengths at each open MARK, as CPython's metastack. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private tensors = 0;

  constructor(
    bytes: Uint8Array,
    private readonly torchScript: boolean,
  ) {
    this.input = new PickleInput(bytes);
  }

  run(): PickleValue {
    for (;;) {
      const at = this.input.offset;
      const op = this.input.u8('an opcode');
      if (op === 0x2e) {
        return this.stop();
      }
      if (!this.literal(op) && !this.container(op) && !this.memoOp(op) && !this.call(op)) {
        throw refusedOpcode(op, at);
      }
      if (this.stack.length + this.marks.length > PICKLE_LIMITS.stack) {
        throw limit(`its stack grows past ${PICKLE_LIMITS.stack} values`);
      }
    }
  }

  /** Opcodes that push a constant read from the pickle. */
  private literal(op: number): boolean {
    switch (op) {
      case 0x80: // PROTO
        return this.input.u8('PROTO') <= 5 || fail('it announces a protocol above 5');
      case 0x95: // FRAME: a length hint that protocol 4 wraps STACK_GLOBAL and MEMOIZE in
        return this.input.take(8, 'FRAME') !== undefined;
      case 0x4e: // NONE
        return this.push(null);
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        return this.push(op === 0x88);
      case 0x4b: // BININT1
        return this.push(this.input.u8('BININT1'));
      case 0x4d: // BININT2
        return this.push(this.input.u16('BININT2'));
      case 0x4a: // BININT
        return this.push(this.input.i32('BININT'));
      case 0x8a: // LONG1
        return this.push(this.input.long1());
      case 0x47: // BINFLOAT
        return this.push(this.input.f64('BINFLOAT'));
      case 0x58: // BINUNICODE
        return this.push(this.input.text(this.input.u32('BINUNICODE'), 'BINUNICODE'));
      case 0x8c: // SHORT_BINUNICODE
        return this.push(this.input.text(this.input.u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
      case 0x63: // GLOBAL
        return this.pushGlobal(this.input.line(), this.input.line());
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw malformed(`STACK_GLOBAL names ${describe(module)} and ${describe(name)}, not two strings`);
        }
        return this.pushGlobal(module, name);
      }
      default:
        return false;
    }
  }

  /** Opcodes that make and fill tuples, lists and dicts. */
  private container(op: number): boolean {
    switch (op) {
      case 0x28: // MARK
        this.marks.push(this.stack.length);
        return true;
      case 0x29: // EMPTY_TUPLE
        return this.push({ kind: 'tuple', items: [] });
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        return this.push({ kind: 'tuple', items: this.popN(op - 0x84) });
      case 0x74: // TUPLE
        return this.push({ kind: 'tuple', items: this.popMark() });
      case 0x5d: // EMPTY_LIST
        return this.push({ kind: 'list', items: [] });
      case 0x7d: // EMPTY_DICT
        return this.push({ kind: 'dict', entries: new Map() });
      case 0x61: // APPEND
      case 0x65: {
        // APPENDS
        const items = op === 0x61 ? [this.pop()] : this.popMark();
        const list = this.top();
        if (list === null || typeof list !== 'object' || list.kind !== 'list') {
          throw malformed(`APPEND to ${describe(list)}`);
        }
        list.items.push(...items);
        return true;
      }
      case 0x73: // SETITEM
      case 0x75: // SETITEMS
        return this.setItems(op === 0x73 ? this.popN(2) : this.popMark());
      default:
        return false;
    }
  }

  /** Memo stores and loads. */
  private memoOp(op: number): boolean {
    switch (op) {
      case 0x71: // BINPUT
        return this.put(this.input.u8('BINPUT'));
      case 0x72: // LONG_BINPUT
        return this.put(this.input.u32('LONG_BINPUT'));
      case 0x94: // MEMOIZE
        return this.put(this.memo.size);
      case 0x68: // BINGET
        return this.get(this.input.u8('BINGET'));
      case 0x6a: // LONG_BINGET
        return this.get(this.input.u32('LONG_BINGET'));
      default:
        return false;
    }
  }

  /** The opcodes that would call something: worked out symbolically (pickle-calls.ts), never called. */
  private call(op: number): boolean {
    switch (op) {
      case 0x51: // BINPERSID
        return this.push(persistentLoad(this.pop()));
      case 0x52: {
        // REDUCE
        const args = this.pop();
        return this.push(this.counted(reduce(this.pop(), args, this.torchScript)));
      }
      case 0x81: {
        // NEWOBJ
        const args = this.pop();
        return this.push(newObject(this.pop(), args, this.torchScript));
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        const target = this.top();
        if (target !== null && typeof target === 'object' && target.kind === 'object') {
          target.state = state;
        } else if (target === null || typeof target !== 'object' || target.kind !== 'dict') {
          // BUILD on an OrderedDict sets its attributes (a state dict's `_metadata`): not part of the manifest.
          throw malformed(`BUILD applies to ${describe(target)}`);
        }
        return true;
      }
      default:
        return false;
    }
  }

  private stop(): PickleValue {
    const result = this.pop();
    if (this.stack.length > 0 || this.marks.length > 0) {
      throw malformed('STOP leaves values on the stack');
    }
    return result;
  }

  private pushGlobal(module: string, name: string): true {
    const global = { kind: 'global', module, name } as const;
    globalRole(global, this.torchScript);
    return this.push(global);
  }

  private setItems(items: PickleValue[]): true {
    const dict = this.top();
    if (dict === null || typeof dict !== 'object' || dict.kind !== 'dict' || items.length % 2 !== 0) {
      throw malformed(`SETITEM on ${describe(dict)} with ${items.length} values`);
    }
    for (let i = 0; i < items.length; i += 2) {
      dict.entries.set(dictKey(items[i], dict), items[i + 1] ?? null);
    }
    return true;
  }

  private counted(value: PickleValue): PickleValue {
    if (
      value !== null &&
      typeof value === 'object' &&
      value.kind === 'tensor' &&
      ++this.tensors > PICKLE_LIMITS.tensors
    ) {
      throw limit(`it rebuilds more than ${PICKLE_LIMITS.tensors} tensors`);
    }
    return value;
  }

  private put(index: number): true {
    if (this.memo.size >= PICKLE_LIMITS.memo && !this.memo.has(index)) {
      throw limit(`its memo grows past ${PICKLE_LIMITS.memo} entries`);
    }
    this.memo.set(index, this.top());
    return true;
  }

  private get(index: number): true {
    const value = this.memo.get(index);
    if (value === undefined) {
      throw malformed(`a memo load of entry ${index}, which was never stored`);
    }
    return this.push(value);
  }

  private push(value: PickleValue): true {
    this.stack.push(value);
    return true;
  }

  private top(): PickleValue {
    const floor = this.marks.at(-1) ?? 0;
    if (this.stack.length <= floor) {
      throw malformed(`an opcode at byte ${this.input.offset - 1} needs a value the stack does not hold`);
    }
    return this.stack[this.stack.length - 1] ?? null;
  }

  private pop(): PickleValue {
    const value = this.top();
    this.stack.pop();
    return value;
  }

  private popN(count: number): PickleValue[] {
    const items = Array.from({ length: count }, () => this.pop());
    return items.reverse();
  }

  private popMark(): PickleValue[] {
    const floor = this.marks.pop();
    if (floor === undefined) {
      throw malformed(`an opcode at byte ${this.input.offset - 1} needs a MARK that was never set`);
    }
    return this.stack.splice(floor);
  }
}

function dictKey(key: PickleValue | undefined, dict: PickleDict): string | number {
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw malformed(`a dict of ${dict.entries.size} entries gets the key ${describe(key)}`);
  }
  return key;
}

function refusedOpcode(op: number, at: number): TorchArchiveError {
  const known = REFUSED_OPCODES[op];
  const what = known ?? `0x${op.toString(16).padStart(2, '0')}, which PyTorch archives do not use`;
  return refusedFile('torch_pickle_opcode', `the pickle uses the opcode ${what}, at byte ${at}.`);
}

function fail(message: string): never {
  throw malformed(message);
}

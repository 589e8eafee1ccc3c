/** Hand-built pickles for the scanner's tests: opcodes as bytes, strings as BINUNICODE, globals as GLOBAL lines. */
export const OP = {
  PROTO2: [0x80, 0x02],
  MARK: 0x28,
  STOP: 0x2e,
  EMPTY_TUPLE: 0x29,
  EMPTY_DICT: 0x7d,
  TUPLE: 0x74,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  NEWFALSE: 0x89,
  BINPUT: 0x71,
  BINGET: 0x68,
  APPEND: 0x61,
  EMPTY_LIST: 0x5d,
} as const;

/** A pickle made of `parts`: numbers are bytes, arrays are byte runs. */
export function pickle(...parts: (number | readonly number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => (typeof part === 'number' ? [part] : [...part])));
}

/** BINUNICODE of `text`. */
export function str(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [0x58, bytes.length & 0xff, (bytes.length >> 8) & 0xff, 0, 0, ...bytes];
}

/** BININT1 (under 256) or BININT of `value`. */
export function int(value: number): number[] {
  if (value >= 0 && value < 256) {
    return [0x4b, value];
  }
  return [0x4a, ...new Uint8Array(Int32Array.of(value).buffer)];
}

/** GLOBAL `module name`. */
export function global(module: string, name: string): number[] {
  return [0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')];
}

/** A tuple of the given pushes: MARK ... TUPLE. */
export function tuple(...items: number[][]): number[] {
  return [OP.MARK, ...items.flat(), OP.TUPLE];
}

/**
 * `torch._utils._rebuild_tensor_v2(('storage', <storage>, key, 'cpu', numel), offset, shape, strides, False,
 * OrderedDict())`, a FloatStorage at offset 0 unless said otherwise.
 */
export function tensor(
  key: string,
  shape: number[],
  strides: number[],
  numel: number,
  options: { storage?: string; offset?: number } = {},
): number[] {
  const storage = global('torch', options.storage ?? 'FloatStorage');
  return [
    ...global('torch._utils', '_rebuild_tensor_v2'),
    ...tuple(
      [...tuple(str('storage'), storage, str(key), str('cpu'), int(numel)), OP.BINPERSID],
      int(options.offset ?? 0),
      tuple(...shape.map(int)),
      tuple(...strides.map(int)),
      [OP.NEWFALSE],
      [...global('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE],
    ),
    OP.REDUCE,
  ];
}

/** A state dict pickle `{name: tensor, ...}` (an OrderedDict, as torch.save writes it) around `entries`. */
export function stateDict(...entries: number[][]): Uint8Array {
  return pickle(
    OP.PROTO2,
    global('collections', 'OrderedDict'),
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.MARK,
    ...entries.flat(),
    OP.SETITEMS,
    OP.STOP,
  );
}

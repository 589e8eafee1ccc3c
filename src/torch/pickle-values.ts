import type { TorchDtype } from './dtypes';

/**
 * The symbolic values the pickle scanner keeps on its stack: plain data, and records of what the pickle would have
 * built (a tensor, a TorchScript object), never the things themselves. Lists and dicts are mutable because
 * `APPEND`/`SETITEM` fill them after they are memoized, as in a real unpickler.
 */
export type PickleValue =
  | string
  | number
  | boolean
  | null
  | PickleGlobal
  | PickleTuple
  | PickleList
  | PickleDict
  | PickleObject
  | StorageRef
  | PickleTensor;

/** A global the allow-list accepted, by its module and name; what it would be called with is decided on `REDUCE`. */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

export interface PickleTuple {
  readonly kind: 'tuple';
  readonly items: readonly PickleValue[];
}

export interface PickleList {
  readonly kind: 'list';
  readonly items: PickleValue[];
}

/** A dict or an OrderedDict, in insertion order (a repeated key keeps its first place, as in Python). */
export interface PickleDict {
  readonly kind: 'dict';
  readonly entries: Map<string | number, PickleValue>;
}

/** A TorchScript module or object (`__torch__.*` class), with the attribute dict `BUILD` gave it. */
export interface PickleObject {
  readonly kind: 'object';
  readonly className: string;
  state: PickleValue | undefined;
}

/** A storage persistent id: `('storage', torch.<Type>Storage, key, location, numel)`. */
export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: TorchDtype;
  readonly key: string;
  readonly location: string;
  readonly numel: number;
}

/** A tensor that a rebuild function would make: a view of `storage`. */
export interface PickleTensor {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** The value's kind for messages: `str`, `int`, `tuple`, `tensor`, ... */
export function describe(value: PickleValue | undefined): string {
  if (value === undefined) {
    return 'nothing';
  }
  if (value === null) {
    return 'None';
  }
  if (typeof value === 'string') {
    return 'a string';
  }
  if (typeof value === 'number') {
    return 'a number';
  }
  if (typeof value === 'boolean') {
    return 'a bool';
  }
  return value.kind === 'global' ? `the global ${value.module}.${value.name}` : `a ${value.kind}`;
}

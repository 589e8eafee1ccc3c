import { storageDtype } from './dtypes';
import { TorchArchiveError, refusedFile } from './errors';
import type { GlobalRole } from './pickle-globals';
import { globalRole } from './pickle-globals';
import type { PickleGlobal, PickleTensor, PickleValue, StorageRef } from './pickle-values';
import { describe } from './pickle-values';

/**
 * What `REDUCE` of an allowed global with `args` would produce, worked out symbolically: nothing is called. Tensor
 * rebuilds become tensor records, `OrderedDict()` an empty dict, TorchScript classes objects awaiting `BUILD`, and
 * TorchScript's list builders and type tags their argument.
 */
export function reduce(fn: PickleValue, args: PickleValue, torchScript: boolean): PickleValue {
  const callee = asGlobal(fn, 'REDUCE');
  const role = globalRole(callee, torchScript);
  const items = tupleItems(args, `the arguments of ${qualified(callee)}`);
  const [min, max] = ARITY[role];
  if (items.length < min || items.length > max) {
    throw malformed(`${qualified(callee)} is called with ${items.length} arguments`);
  }
  switch (role) {
    case 'ordered_dict':
      return { kind: 'dict', entries: new Map() };
    case 'rebuild_tensor':
    case 'rebuild_tensor_v2':
      return rebuildTensor(items, callee);
    case 'rebuild_parameter':
    case 'rebuild_parameter_with_state':
      return asTensor(items[0], callee);
    case 'torchscript_class':
      return { kind: 'object', className: qualified(callee), state: undefined };
    case 'jit_list':
    case 'restore_type_tag':
      return items[0] ?? null;
    case 'storage_type':
      throw malformed(`it calls the storage type ${qualified(callee)}, which PyTorch only names`);
  }
}

/** How many arguments PyTorch passes each callable global (a storage type is never called: refused in `reduce`). */
const ARITY: Readonly<Record<GlobalRole, readonly [number, number]>> = {
  ordered_dict: [0, 0],
  rebuild_tensor: [4, 4],
  rebuild_tensor_v2: [6, 7],
  rebuild_parameter: [3, 3],
  rebuild_parameter_with_state: [4, 4],
  torchscript_class: [0, Infinity],
  jit_list: [1, 1],
  restore_type_tag: [2, 2],
  storage_type: [0, Infinity],
};

/** What `NEWOBJ` of `cls` makes: only a TorchScript object (a whole `nn.Module` was refused at its `GLOBAL`). */
export function newObject(cls: PickleValue, args: PickleValue, torchScript: boolean): PickleValue {
  const callee = asGlobal(cls, 'NEWOBJ');
  const role: GlobalRole = globalRole(callee, torchScript);
  tupleItems(args, `the arguments of ${qualified(callee)}`);
  if (role !== 'torchscript_class') {
    throw malformed(`it instantiates ${qualified(callee)} with NEWOBJ, which PyTorch never does`);
  }
  return { kind: 'object', className: qualified(callee), state: undefined };
}

/** The storage a `BINPERSID` names: exactly `('storage', torch.<Type>Storage, key, location, numel)`. */
export function persistentLoad(pid: PickleValue): StorageRef {
  const items = pid !== null && typeof pid === 'object' && pid.kind === 'tuple' ? pid.items : undefined;
  const [tag, type, key, location, numel] = items ?? [];
  const dtype = isGlobal(type) && type.module === 'torch' ? storageDtype(type.name) : undefined;
  if (
    items?.length !== 5 ||
    tag !== 'storage' ||
    dtype === undefined ||
    typeof key !== 'string' ||
    !/^[0-9]+$/.test(key) ||
    typeof location !== 'string' ||
    !isCount(numel)
  ) {
    throw refusedFile(
      'torch_pickle_persistent_id',
      `the pickle refers to an outside object by the persistent id ${describe(pid)}${items ? ` of ${items.length} items` : ''}; ` +
        "only ('storage', <storage type>, <key>, <location>, <numel>) is accepted.",
    );
  }
  return { kind: 'storage', dtype, key, location, numel };
}

/** `_rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...)` as a tensor record. */
function rebuildTensor(items: readonly PickleValue[], callee: PickleGlobal): PickleTensor {
  const [storage, storageOffset, shape, strides] = items;
  if (storage === null || typeof storage !== 'object' || storage.kind !== 'storage') {
    throw malformed(`${qualified(callee)} gets ${describe(storage)} where PyTorch passes a storage`);
  }
  if (!isCount(storageOffset)) {
    throw malformed(`${qualified(callee)} gets ${describe(storageOffset)} as its storage offset`);
  }
  const dims = counts(shape, `the size given to ${qualified(callee)}`);
  const steps = counts(strides, `the stride given to ${qualified(callee)}`);
  if (dims.length !== steps.length) {
    throw malformed(`${qualified(callee)} gets a size of ${dims.length} dimensions and a stride of ${steps.length}`);
  }
  return { kind: 'tensor', storage, storageOffset, shape: dims, strides: steps };
}

function counts(value: PickleValue | undefined, what: string): number[] {
  const items = tupleItems(value ?? null, what);
  if (!items.every(isCount)) {
    throw malformed(`${what} holds something other than non-negative integers`);
  }
  return items.filter(isCount);
}

function isCount(value: PickleValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function asTensor(value: PickleValue | undefined, callee: PickleGlobal): PickleTensor {
  if (value === null || value === undefined || typeof value !== 'object' || value.kind !== 'tensor') {
    throw malformed(`${qualified(callee)} gets ${describe(value)} where PyTorch passes a tensor`);
  }
  return value;
}

function tupleItems(value: PickleValue, what: string): readonly PickleValue[] {
  if (value === null || typeof value !== 'object' || value.kind !== 'tuple') {
    throw malformed(`${what} are ${describe(value)}, not a tuple`);
  }
  return value.items;
}

function asGlobal(value: PickleValue, opcode: string): PickleGlobal {
  if (!isGlobal(value)) {
    throw malformed(`${opcode} applies to ${describe(value)}, not to a global`);
  }
  return value;
}

function isGlobal(value: PickleValue | undefined): value is PickleGlobal {
  return value !== null && typeof value === 'object' && value.kind === 'global';
}

function qualified(global: PickleGlobal): string {
  return `${global.module}.${global.name}`;
}

/** Thrown when a pickle breaks the pickle format or uses an allowed global in a way PyTorch never writes. */
export function malformed(message: string): TorchArchiveError {
  return new TorchArchiveError('torch_pickle_malformed', `the pickle is malformed: ${message}`);
}

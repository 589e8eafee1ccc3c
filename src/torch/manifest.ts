import type { TorchDtype } from './dtypes';
import { TorchArchiveError } from './errors';
import { malformed } from './pickle-calls';
import { limit } from './pickle-limits';
import type { PickleTensor, PickleValue } from './pickle-values';
import { describe } from './pickle-values';

/** What an archive holds: a TorchScript module (`torch.jit.save`) or a `torch.save`d state dict. */
export type TorchArchiveKind = 'torchscript' | 'state_dict';

/** One tensor of an archive: what an update's manifest must repeat exactly. */
export interface TensorManifestEntry {
  /** The path in the pickled structure: the state dict key, or the TorchScript attribute path (`0.weight`). */
  readonly name: string;
  /** The storage's key: its bytes are the archive's `data/<key>` entry. */
  readonly storageKey: string;
  readonly dtype: TorchDtype;
  /** In elements, not bytes. */
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** Nesting deeper than any module tree, so a hostile pickle cannot recurse without end. */
const MAX_DEPTH = 256;

/**
 * The tensors of a scanned `data.pkl`, named by their path: a state dict's keys, or a TorchScript module's attribute
 * paths through its submodules (lists and tuples by index). Each container is walked once, so a shared or cyclic
 * structure costs no more than its size; a tensor reached by two paths (tied weights) is listed under both.
 */
export function tensorManifest(root: PickleValue, kind: TorchArchiveKind): TensorManifestEntry[] {
  const top = root !== null && typeof root === 'object' ? root.kind : undefined;
  if ((kind === 'state_dict' && top !== 'dict') || (kind === 'torchscript' && top !== 'object')) {
    const expected = kind === 'state_dict' ? 'a dict of tensors' : 'a TorchScript module';
    throw malformed(`it holds ${describe(root)} where a ${kind.replace('_', ' ')} archive holds ${expected}`);
  }
  const entries: TensorManifestEntry[] = [];
  const names = new Set<string>();
  const seen = new Set<PickleValue>();
  const visit = (value: PickleValue, path: string, depth: number): void => {
    if (value === null || typeof value !== 'object') {
      return;
    }
    if (value.kind === 'tensor') {
      if (names.has(path)) {
        throw new TorchArchiveError('torch_tensor_invalid', `two tensors are named ${path}`, { tensor: path });
      }
      names.add(path);
      entries.push(entry(path, value));
      return;
    }
    if (seen.has(value)) {
      return;
    }
    seen.add(value);
    if (depth > MAX_DEPTH) {
      throw limit(`it nests deeper than ${MAX_DEPTH} levels at ${path}`);
    }
    for (const [key, child] of children(value)) {
      visit(child, key === undefined ? path : path === '' ? key : `${path}.${key}`, depth + 1);
    }
  };
  visit(root, '', 0);
  return entries;
}

/** The named children of a container: dict entries, list and tuple items, an object's state (at the object's path). */
function children(value: Exclude<PickleValue, null | string | number | boolean>): [string | undefined, PickleValue][] {
  switch (value.kind) {
    case 'dict':
      return Array.from(value.entries, ([key, child]) => [String(key), child]);
    case 'list':
    case 'tuple':
      return value.items.map((child, i) => [String(i), child]);
    case 'object':
      return value.state === undefined ? [] : [[undefined, value.state]];
    default:
      return [];
  }
}

function entry(name: string, tensor: PickleTensor): TensorManifestEntry {
  return {
    name,
    storageKey: tensor.storage.key,
    dtype: tensor.storage.dtype,
    storageOffset: tensor.storageOffset,
    shape: tensor.shape,
    strides: tensor.strides,
  };
}

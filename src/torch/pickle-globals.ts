import { storageDtype } from './dtypes';
import { refusedFile } from './errors';
import type { PickleGlobal } from './pickle-values';

/**
 * What an accepted global is for. The list is PyTorch's `weights_only` loader's, narrowed to what a model archive
 * holds, plus TorchScript's own class references and list builders.
 */
export type GlobalRole =
  | 'ordered_dict'
  | 'rebuild_tensor'
  | 'rebuild_tensor_v2'
  | 'rebuild_parameter'
  | 'rebuild_parameter_with_state'
  | 'storage_type'
  | 'torchscript_class'
  | 'jit_list'
  | 'restore_type_tag';

const TORCH_GLOBALS: Readonly<Record<string, GlobalRole>> = {
  'collections.OrderedDict': 'ordered_dict',
  'torch._utils._rebuild_tensor': 'rebuild_tensor',
  'torch._utils._rebuild_tensor_v2': 'rebuild_tensor_v2',
  'torch._utils._rebuild_parameter': 'rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state': 'rebuild_parameter_with_state',
};

/** TorchScript's typed-list builders: each returns its one list argument. */
const JIT_LISTS = new Set(['build_intlist', 'build_doublelist', 'build_boollist', 'build_tensorlist']);

/**
 * The role of `module.name`, or a refusal: `torch_whole_module` for an `nn.Module` class or a class of the saving
 * script (`__main__`), `torch_pickle_global` for anything else outside the allow-list.
 * @param torchScript whether the archive is TorchScript, where `__torch__.*` classes and `torch.jit._pickle` helpers
 *   are accepted too.
 */
export function globalRole(global: PickleGlobal, torchScript: boolean): GlobalRole {
  const { module, name } = global;
  const qualified = `${module}.${name}`;
  const role = Object.hasOwn(TORCH_GLOBALS, qualified) ? TORCH_GLOBALS[qualified] : undefined;
  if (role !== undefined) {
    return role;
  }
  if (module === 'torch' && storageDtype(name) !== undefined) {
    return 'storage_type';
  }
  if (torchScript && (module === '__torch__' || module.startsWith('__torch__.'))) {
    return 'torchscript_class';
  }
  if (torchScript && module === 'torch.jit._pickle' && JIT_LISTS.has(name)) {
    return 'jit_list';
  }
  if (torchScript && module === 'torch.jit._pickle' && name === 'restore_type_tag') {
    return 'restore_type_tag';
  }
  if (module === '__main__' || module.startsWith('__main__.') || module.startsWith('torch.nn.')) {
    throw refusedFile(
      'torch_whole_module',
      `the pickle holds a whole model: it names the Python class ${qualified}, and loading it would run that ` +
        "class's code.",
    );
  }
  throw refusedFile(
    'torch_pickle_global',
    `the pickle names the global ${qualified}, which loading it would call. Only PyTorch's tensor rebuild functions, ` +
      "storage types and collections.OrderedDict (and, in TorchScript archives, __torch__ classes and TorchScript's " +
      'list builders) are accepted.',
  );
}

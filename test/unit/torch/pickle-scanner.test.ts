import { isTorchArchiveError } from '../../../src/torch/errors';
import { tensorManifest } from '../../../src/torch/manifest';
import { PICKLE_LIMITS } from '../../../src/torch/pickle-limits';
import { scanPickle } from '../../../src/torch/pickle-scanner';
import { global, int, OP, pickle, stateDict, str, tensor, tuple } from './pickle-bytes';

const stateScan = (bytes: Uint8Array) => scanPickle(bytes, { torchScript: false });

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isTorchArchiveError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

const HOW_TO_SAVE = /torch\.jit\.save\(torch\.jit\.script\(model\)\).*torch\.save\(model\.state_dict\(\)\)/;

describe('scanPickle', () => {
  it('reads a hand-built state dict into its tensor manifest', () => {
    const bytes = stateDict(
      [...str('fc.weight'), ...tensor('0', [2, 3], [3, 1], 6)],
      [...str('fc.bias'), ...tensor('1', [2], [1], 2)],
    );
    expect(tensorManifest(stateScan(bytes), 'state_dict')).toEqual([
      { name: 'fc.weight', storageKey: '0', dtype: 'float32', storageOffset: 0, shape: [2, 3], strides: [3, 1] },
      { name: 'fc.bias', storageKey: '1', dtype: 'float32', storageOffset: 0, shape: [2], strides: [1] },
    ]);
  });

  it.each([
    ['INST', [0x69, ...Buffer.from('os\nsystem\n')], /INST/],
    ['OBJ', [OP.MARK, ...global('collections', 'OrderedDict'), 0x6f], /OBJ/],
    ['EXT1', [0x82, 1], /EXT1/],
    ['EXT2', [0x83, 1, 0], /EXT2/],
    ['EXT4', [0x84, 1, 0, 0, 0], /EXT4/],
    ['PERSID', [0x50, ...Buffer.from('0\n')], /PERSID/],
    ['an unknown opcode', [0xff], /0xff/],
    ['a text INT', [0x49, ...Buffer.from('1\n')], /0x49/],
  ])('refuses %s, saying how to save instead', (_name, ops, what) => {
    const { code, message } = refusal(() => stateScan(pickle(OP.PROTO2, ops, OP.STOP)));
    expect(code).toBe('torch_pickle_opcode');
    expect(message).toMatch(what);
    expect(message).toMatch(HOW_TO_SAVE);
  });

  it('refuses a global outside the allow-list before anything could call it', () => {
    const bytes = pickle(OP.PROTO2, global('posix', 'system'), ...str('echo pwned'), 0x85, OP.REDUCE, OP.STOP);
    const { code, message } = refusal(() => stateScan(bytes));
    expect(code).toBe('torch_pickle_global');
    expect(message).toMatch(/posix\.system/);
    expect(message).toMatch(HOW_TO_SAVE);
  });

  it('refuses a global given by STACK_GLOBAL the same way', () => {
    const bytes = pickle(OP.PROTO2, ...str('builtins'), ...str('eval'), 0x93, OP.STOP);
    expect(refusal(() => stateScan(bytes)).code).toBe('torch_pickle_global');
  });

  it('refuses a whole nn.Module by its class', () => {
    const bytes = pickle(OP.PROTO2, global('__main__', 'Net'), OP.EMPTY_TUPLE, 0x81, OP.STOP);
    expect(refusal(() => stateScan(bytes))).toMatchObject({ code: 'torch_whole_module', message: /__main__\.Net/ });
  });

  it('accepts __torch__ classes only in TorchScript archives', () => {
    const bytes = pickle(OP.PROTO2, global('__torch__.Net', 'Net'), OP.EMPTY_TUPLE, 0x81, OP.STOP);
    expect(scanPickle(bytes, { torchScript: true })).toMatchObject({ kind: 'object', className: '__torch__.Net.Net' });
    expect(refusal(() => stateScan(bytes)).code).toBe('torch_pickle_global');
  });

  it('refuses a persistent id other than a storage', () => {
    const bytes = pickle(OP.PROTO2, ...tuple(str('module'), str('x')), OP.BINPERSID, OP.STOP);
    expect(refusal(() => stateScan(bytes))).toMatchObject({ code: 'torch_pickle_persistent_id' });
  });

  it('refuses a call of a storage type', () => {
    const bytes = pickle(OP.PROTO2, global('torch', 'FloatStorage'), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP);
    expect(refusal(() => stateScan(bytes)).code).toBe('torch_pickle_malformed');
  });

  it.each([
    ['a pickle that ends early', pickle(OP.PROTO2, 0x58, 5, 0, 0, 0, 0x61)],
    ['a load of a memo entry never stored', pickle(OP.PROTO2, OP.BINGET, 3, OP.STOP)],
    ['a pop from an empty stack', pickle(OP.PROTO2, OP.SETITEM, OP.STOP)],
    ['values left at STOP', pickle(OP.PROTO2, ...int(1), ...int(2), OP.STOP)],
  ])('refuses %s as malformed', (_name, bytes) => {
    expect(refusal(() => stateScan(bytes)).code).toBe('torch_pickle_malformed');
  });

  it('bounds string lengths and the stack', () => {
    const long = pickle(OP.PROTO2, 0x58, 0, 0, 0x10, 0, OP.STOP);
    expect(refusal(() => stateScan(long))).toMatchObject({ code: 'torch_pickle_limit', message: /string/ });
    const deep = pickle(
      OP.PROTO2,
      Array.from({ length: PICKLE_LIMITS.stack + 1 }, () => OP.EMPTY_LIST),
      OP.STOP,
    );
    expect(refusal(() => stateScan(deep))).toMatchObject({ code: 'torch_pickle_limit', message: /stack/ });
  });

  it('walks a list that contains itself once', () => {
    const selfList = [OP.EMPTY_LIST, OP.BINPUT, 9, OP.BINGET, 9, OP.APPEND, ...tensor('0', [1], [1], 1), OP.APPEND];
    const manifest = tensorManifest(stateScan(stateDict([...str('l'), ...selfList])), 'state_dict');
    expect(manifest.map((entry) => entry.name)).toEqual(['l.1']);
  });
});

import { readTorchArchive } from '../../../src/torch/archive';
import { isTorchArchiveError } from '../../../src/torch/errors';
import { global, OP, pickle, stateDict, str, tensor } from './pickle-bytes';
import { buildZip } from './zip-bytes';
import type { ZipFile } from './zip-bytes';

const floats = (count: number): Uint8Array => new Uint8Array(4 * count);
const file = (name: string, data: Uint8Array): ZipFile => ({ name: `archive/${name}`, data });
const weights = stateDict([...str('fc.weight'), ...tensor('0', [2, 3], [3, 1], 6)]);

function refusal(files: ZipFile[]): { code: string; message: string } {
  try {
    readTorchArchive(buildZip(files));
  } catch (error) {
    if (isTorchArchiveError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

/** `__torch__.Net` with a submodule `fc` of class `__torch__.Linear` whose `weight` is a tensor, as TorchScript pickles. */
const scriptModule = pickle(
  OP.PROTO2,
  ...global('__torch__', 'Net'),
  OP.EMPTY_TUPLE,
  0x81,
  OP.EMPTY_DICT,
  OP.MARK,
  ...str('fc'),
  ...global('__torch__', 'Linear'),
  OP.EMPTY_TUPLE,
  0x81,
  OP.EMPTY_DICT,
  OP.MARK,
  ...str('training'),
  OP.NEWFALSE,
  ...str('weight'),
  ...tensor('0', [2, 3], [3, 1], 6),
  OP.SETITEMS,
  0x62,
  OP.SETITEMS,
  0x62,
  OP.STOP,
);

describe('readTorchArchive on hand-built archives', () => {
  it('names TorchScript tensors by their attribute path', () => {
    const archive = readTorchArchive(
      buildZip([
        file('data.pkl', scriptModule),
        file('constants.pkl', pickle(OP.PROTO2, OP.EMPTY_TUPLE, OP.STOP)),
        file('data/0', floats(6)),
      ]),
    );
    expect(archive.kind).toBe('torchscript');
    expect(archive.manifest.map((entry) => entry.name)).toEqual(['fc.weight']);
  });

  it('refuses a tensor that reaches past its storage', () => {
    expect(refusal([file('data.pkl', weights), file('data/0', floats(5))])).toMatchObject({
      code: 'torch_tensor_invalid',
      message: /fc\.weight.*element 5 of storage 0, which holds 5/,
    });
  });

  it('refuses a tensor whose storage is missing', () => {
    expect(refusal([file('data.pkl', weights)])).toMatchObject({ code: 'torch_tensor_invalid', message: /data\/0/ });
  });

  it.each([
    ['no data.pkl', [file('data/0', floats(6))], /no archive\/data\.pkl/],
    ['entries in two folders', [file('data.pkl', weights), { name: 'other/data/0', data: floats(6) }], /one folder/],
    [
      'a big-endian archive',
      [file('data.pkl', weights), file('data/0', floats(6)), file('byteorder', Buffer.from('big'))],
      /big/,
    ],
  ])('refuses %s', (_name, files, why) => {
    expect(refusal(files)).toMatchObject({ code: 'torch_archive_layout', message: why });
  });

  it('refuses a TorchScript archive whose constants.pkl names a foreign global, naming the entry', () => {
    const constants = pickle(OP.PROTO2, ...global('posix', 'system'), OP.STOP);
    const files = [file('data.pkl', scriptModule), file('constants.pkl', constants), file('data/0', floats(6))];
    expect(refusal(files)).toMatchObject({
      code: 'torch_pickle_global',
      message: /^archive\/constants\.pkl: .*posix\.system/,
    });
  });
});

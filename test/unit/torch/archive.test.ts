import { readFileSync } from 'node:fs';
import { readTorchArchive } from '../../../src/torch/archive';
import type { TorchArchive } from '../../../src/torch/archive';
import { isTorchArchiveError } from '../../../src/torch/errors';
import { fixture } from '../aggregation/helpers/fixtures';

const readme = JSON.parse(readFileSync(fixture('torch/README.json'), 'utf8')) as {
  state_keys: Record<'mlp' | 'cnn', Record<string, number[]>>;
};

const read = (name: string): TorchArchive => readTorchArchive(readFileSync(fixture(`torch/${name}`)));

function refusal(name: string): { code: string; message: string } {
  try {
    read(name);
  } catch (error) {
    if (isTorchArchiveError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error(`expected ${name} to be refused`);
}

const HOW_TO_SAVE = /torch\.jit\.save\(torch\.jit\.script\(model\)\).*torch\.save\(model\.state_dict\(\)\)/;

describe.each(['mlp', 'cnn'] as const)('the %s fixtures', (model) => {
  describe.each([
    ['jit', 'torchscript'],
    ['state', 'state_dict'],
  ] as const)('saved as %s', (suffix, kind) => {
    const global = read(`${model}-global-r0.${suffix}.pt`);

    it("lists README.json's keys and shapes, float32 and contiguous", () => {
      expect(global.kind).toBe(kind);
      expect(global.folder).toBe('archive');
      const shapes = Object.fromEntries(global.manifest.map((tensor) => [tensor.name, tensor.shape]));
      expect(shapes).toEqual(readme.state_keys[model]);
      for (const tensor of global.manifest) {
        expect(tensor).toMatchObject({ dtype: 'float32', storageOffset: 0 });
        expect(global.storages.get(tensor.storageKey)?.entry.name).toBe(`archive/data/${tensor.storageKey}`);
      }
    });

    it.each(['a', 'b', 'c'])("reads client %s's update with the global model's manifest", (client) => {
      const update = read(`${model}-client-${client}.${suffix}.pt`);
      expect(update.kind).toBe(kind);
      expect(update.manifest).toEqual(global.manifest);
    });
  });

  it("names client b's folder after its file, as PyTorch does when saving to a path", () => {
    expect(read(`${model}-client-b.jit.pt`).folder).toBe(`${model}-client-b.jit`);
  });

  it("reads a resaved train-mode archive with client a's manifest", () => {
    const resaved = read(`${model}-client-a.resaved-train-mode.jit.pt`);
    expect(resaved.kind).toBe('torchscript');
    expect(resaved.manifest).toEqual(read(`${model}-client-a.jit.pt`).manifest);
  });
});

describe('refused archives', () => {
  it.each([
    ['refused-code-on-load.pt', 'torch_pickle_global', /posix\.system/],
    ['refused-whole-module.pt', 'torch_whole_module', /torch\.nn\.modules\.container\.Sequential/],
    ['refused-legacy-format.pt', 'torch_legacy_format', /legacy/],
  ])('refuses %s with %s, saying how to save instead', (name, code, why) => {
    const { code: actual, message } = refusal(name);
    expect(actual).toBe(code);
    expect(message).toMatch(why);
    expect(message).toMatch(HOW_TO_SAVE);
  });

  it('reads the wrong-shape update, whose manifest then differs from the global model at 4.bias', () => {
    const wrong = read('refused-update-wrong-shape.state.pt').manifest;
    const global = read('mlp-global-r0.state.pt').manifest;
    expect(wrong.find((tensor) => tensor.name === '4.bias')?.shape).toEqual([11]);
    expect(wrong).not.toEqual(global);
  });
});

import { readFileSync } from 'node:fs';
import { isAggregationError } from '../../../src/aggregation/errors';
import { readSafetensors, writeSafetensors } from '../../../src/aggregation/safetensors';
import { fixture, FIXTURE_FACTS } from './helpers/fixtures';
import { readReferenceSafetensors } from './helpers/reference-safetensors';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isAggregationError(error) ? `${error.code}: ${error.message}` : `other: ${String(error)}`;
  }
  return 'accepted';
}

const header = (json: string): Uint8Array => {
  const text = Buffer.from(json);
  const out = Buffer.alloc(8 + text.length + 8);
  out.writeBigUInt64LE(BigInt(text.length));
  text.copy(out, 8);
  return out;
};

describe('safetensors', () => {
  it('when a PyTorch-written file is read, names, shapes and values match an independent parse', () => {
    const file = readSafetensors(readFileSync(fixture('mlp-client-a.safetensors')));
    const reference = readReferenceSafetensors(fixture('mlp-client-a.safetensors'));
    expect([...file.tensors.keys()].sort()).toEqual([...FIXTURE_FACTS.mlp.state_keys].sort());
    for (const [name, tensor] of reference) {
      expect(file.tensors.get(name)?.shape).toEqual(tensor.dims);
      expect(Array.from(file.tensors.get(name)?.values ?? [])).toEqual(Array.from(tensor.values));
    }
  });

  it('when tensors and metadata are written and read back, they are unchanged and the header is 8-byte aligned', () => {
    const tensors = new Map([
      ['fc.weight', { shape: [2, 3], values: Float32Array.from([1, -2, 3.5, 1e-8, 0, 7]) }],
      ['fc.bias', { shape: [2], values: Float32Array.from([0.25, -0.5]) }],
      ['scalar', { shape: [], values: Float32Array.from([42]) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: 'pt', round: '3' });
    expect(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', round: '3' });
    expect([...back.tensors.keys()]).toEqual(['fc.weight', 'fc.bias', 'scalar']);
    for (const [name, tensor] of tensors) {
      expect(back.tensors.get(name)?.shape).toEqual(tensor.shape);
      expect(Array.from(back.tensors.get(name)?.values ?? [])).toEqual(Array.from(tensor.values));
    }
  });

  it.each([
    ['a file shorter than its length field', new Uint8Array(4), 'shorter than'],
    ['a header longer than the file', header('{}').subarray(0, 9), 'claims'],
    ['a header that is not JSON', header('{nope'), 'not JSON'],
    ['a non-F32 tensor', header('{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}'), 'only F32'],
    ['offsets past the data', header('{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'), 'do not fit'],
    [
      'offsets that disagree with the shape',
      header('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'),
      'do not fit',
    ],
  ])('when given %s, it is refused as malformed', (_, bytes, text) => {
    const result = refusal(() => readSafetensors(bytes));
    expect(result).toMatch(/^safetensors_malformed: invalid safetensors file: /);
    expect(result).toContain(text);
  });

  it('when a tensor has the wrong number of values for its shape, writing is refused', () => {
    const result = refusal(() => writeSafetensors(new Map([['x', { shape: [3], values: new Float32Array(2) }]])));
    expect(result).toContain('safetensors_malformed');
  });
});

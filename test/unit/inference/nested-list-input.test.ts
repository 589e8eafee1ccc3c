import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeModelInput } from '../../../src/inference/input/model-input';
import { FIXTURES } from '../aggregation/helpers/fixtures';
import { refusal } from './helpers/inputs';

const mnist = JSON.parse(readFileSync(path.join(FIXTURES, 'mnist-batch16.json'), 'utf8')) as {
  pixels_0_255: number[][];
};

/** Splits a flat row of 784 pixels into [1][28][28] lists. */
const asImage = (row: number[]): number[][][] => [Array.from({ length: 28 }, (_, y) => row.slice(28 * y, 28 * y + 28))];

describe('decodeModelInput: nested lists', () => {
  it('when the MNIST batch is sent as [16, 1, 28, 28] lists, every pixel arrives unchanged', () => {
    const decoded = decodeModelInput({ kind: 'json', value: mnist.pixels_0_255.map(asImage) });
    expect(decoded.kind).toBe('tensor');
    expect(decoded.tensor.dims).toEqual([16, 1, 28, 28]);
    expect(Array.from(decoded.tensor.data)).toEqual(mnist.pixels_0_255.flat());
  });

  it('when the MNIST batch is sent as [16, 784] with shape [16, 1, 28, 28], it is reshaped', () => {
    const decoded = decodeModelInput({ kind: 'json', value: mnist.pixels_0_255, shape: [16, 1, 28, 28] });
    expect(decoded.tensor.dims).toEqual([16, 1, 28, 28]);
    expect(Array.from(decoded.tensor.data)).toEqual(mnist.pixels_0_255.flat());
  });

  it('when a form field holds a JSON list and a comma-separated shape, it decodes', () => {
    const decoded = decodeModelInput({ kind: 'form', value: ' [[1, 2.5], [-3, 4e2]] ', shape: '4' });
    expect(decoded).toEqual({ kind: 'tensor', tensor: { dims: [4], data: Float32Array.from([1, 2.5, -3, 400]) } });
  });

  it('when a JSON body string holds a list, it is read as the list', () => {
    expect(decodeModelInput({ kind: 'json', value: '[[1], [2], [3]]' }).tensor.dims).toEqual([3, 1]);
  });

  it.each([
    [
      'a short row',
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [1, 2, 3],
      ],
      'model_input[2] has 3 items, model_input[0] has 4.',
    ],
    [
      'a deep ragged list',
      [
        [[1], [2]],
        [[3], [4, 5]],
      ],
      'model_input[1][1] has 2 items, model_input[0][0] has 1.',
    ],
    ['a number where a list belongs', [[1, 2], 3], 'model_input[1] is 3, model_input[0] is a list.'],
    [
      'a list where a number belongs',
      [
        [1, 2],
        [3, [4]],
      ],
      'model_input[1][1] is a list, model_input[0][0] is a number.',
    ],
  ])('when given %s, it is refused as not rectangular naming the path', (_, value, text) => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value }))).toEqual({
      status: 400,
      code: 'invalid_input',
      reason: 'not_rectangular',
      message: `Model input is not rectangular: ${text}`,
    });
  });

  it.each([
    ['a string', [[1, '2']], 'model_input[0][1] is the string "2"'],
    ['a boolean', [1, true], 'model_input[1] is true'],
    ['null', [[1], [null]], 'model_input[1][0] is null'],
    ['NaN', [1, 2, NaN], 'model_input[2] is NaN'],
    ['an object', [{ x: 1 }], 'model_input[0] is an object'],
  ])('when a list holds %s, it is refused naming the path', (_, value, text) => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value }))).toMatchObject({
      status: 400,
      reason: 'not_numeric',
      message: `Model input must hold only finite numbers: ${text}.`,
    });
  });

  it.each([
    ['an empty list', { kind: 'json', value: [] }],
    ['null', { kind: 'json', value: null }],
    ['an empty form field', { kind: 'form', value: '' }],
    ['an empty JSON list in a form field', { kind: 'form', value: '[]' }],
    ['an empty file', { kind: 'file', bytes: new Uint8Array(0) }],
  ] as const)('when given %s, it is refused with the reference message', (_, source) => {
    expect(refusal(() => decodeModelInput(source))).toMatchObject({
      status: 400,
      reason: 'missing',
      message: "No uploaded file 'model_input' found.",
    });
  });

  it('when an inner list is empty, it is refused naming it', () => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value: [[]] }))).toMatchObject({
      reason: 'empty',
      message: 'Model input is empty: model_input[0] has no items.',
    });
  });

  it('when lists nest deeper than 8 levels, they are refused', () => {
    const deep = [[[[[[[[[1]]]]]]]]];
    expect(refusal(() => decodeModelInput({ kind: 'json', value: deep }))).toMatchObject({
      reason: 'bad_rank',
      message: 'Model input nests lists deeper than 8 levels.',
    });
  });

  it('when the input is a bare number, it is refused as not a list', () => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value: 7 }))).toMatchObject({
      reason: 'not_numeric',
      message: 'Model input must be a nested list of numbers, a base64 string or a file; got a number.',
    });
  });

  it('when there are more elements than the limit, they are refused before being read', () => {
    const value = [Array.from({ length: 11 }, () => 'not read')];
    expect(refusal(() => decodeModelInput({ kind: 'json', value }, { maxElements: 10, maxPixels: 100 }))).toMatchObject(
      { reason: 'too_large', message: 'Model input has 11 elements (shape [1, 11]); at most 10 are accepted.' },
    );
  });

  it('when a form string starts like a list but is not JSON, it is refused as bad JSON', () => {
    expect(refusal(() => decodeModelInput({ kind: 'form', value: '[1, 2' }))).toMatchObject({ reason: 'bad_json' });
  });

  it('when shape holds a different number of elements, the reshape is refused naming both', () => {
    expect(refusal(() => decodeModelInput({ kind: 'json', value: [1, 2, 3], shape: [2, 2] }))).toMatchObject({
      reason: 'bad_shape',
      message: 'Model input has 3 numbers (shape [3]), but shape [2, 2] needs 4.',
    });
  });
});

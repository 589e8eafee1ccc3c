import { checkInputShape } from '../../../src/inference/input/input-shape';
import { parseShapeField } from '../../../src/inference/input/shape-field';
import { refusal } from './helpers/inputs';

const tensor = (dims: number[]) => ({ dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });

describe('checkInputShape', () => {
  it.each([
    ['free batch dimension', [16, 1, 28, 28], [null, 1, 28, 28]],
    ['exact dimensions', [2, 5], [2, 5]],
    ['an unknown input shape', [3, 3], null],
  ] as const)('when the input matches (%s), it is accepted', (_, dims, inputShape) => {
    expect(refusal(() => checkInputShape(tensor([...dims]), inputShape))).toBe('accepted');
  });

  it('when the rank differs, it is refused with both shapes although the shared dims agree', () => {
    expect(refusal(() => checkInputShape(tensor([16, 784]), [null, 1, 28, 28]))).toEqual({
      status: 400,
      code: 'invalid_input',
      reason: 'shape_mismatch',
      message: 'Input shape does not match model input shape. Expected [null, 1, 28, 28], got [16, 784].',
    });
  });

  it('when a fixed dimension differs, it is refused with both shapes', () => {
    expect(refusal(() => checkInputShape(tensor([3, 3]), [null, 5]))).toMatchObject({
      reason: 'shape_mismatch',
      message: 'Input shape does not match model input shape. Expected [null, 5], got [3, 3].',
    });
  });
});

describe('parseShapeField', () => {
  it.each([
    ['a JSON list', [16, 1, 28, 28], [16, 1, 28, 28]],
    ['a JSON list in a string', ' [2, 3] ', [2, 3]],
    ['comma-separated integers', '2, 3,4', [2, 3, 4]],
    ['one integer', '7', [7]],
    ['nothing', undefined, undefined],
    ['an empty form field', '', undefined],
  ])('when given %s, it gives the dimensions', (_, raw, expected) => {
    expect(parseShapeField(raw)).toEqual(expected);
  });

  it.each([
    ['a negative dimension', [2, -3], 'shape[1] is -3; every dimension must be a positive integer.'],
    ['a zero', '0,4', 'shape[0] is 0; every dimension must be a positive integer.'],
    ['a fraction', '[2.5]', 'shape[0] is 2.5; every dimension must be a positive integer.'],
    ['a word', '2,x', 'shape[1] is "x"; every dimension must be a positive integer.'],
    ['an empty list', [], 'shape must be a non-empty list of positive integers such as [1, 28, 28]; got [].'],
    ['an object', { a: 1 }, 'shape must be a non-empty list of positive integers such as [1, 28, 28]; got {"a":1}.'],
    ['broken JSON', '[1, 2', 'shape looks like a JSON list but is not valid JSON: "[1, 2".'],
  ])('when given %s, it is refused saying which entry', (_, raw, message) => {
    expect(refusal(() => parseShapeField(raw))).toEqual({
      status: 400,
      code: 'invalid_input',
      reason: 'bad_shape',
      message,
    });
  });
});

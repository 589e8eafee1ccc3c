import { EvaluationSums, targetKind } from '../../../src/evaluation/figures';

describe('EvaluationSums', () => {
  it('when logits and labels come in batches, gives the mean cross-entropy and accuracy of all rows', () => {
    const sums = new EvaluationSums('classes');
    sums.add([2, 0, 0, 0, 3, 1], 3, [0, 2]);
    sums.add([0, 0, 0], 3, [1]);
    const lse = (z: number[]) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const expected = (lse([2, 0, 0]) - 2 + (lse([0, 3, 1]) - 1) + (lse([0, 0, 0]) - 0)) / 3;
    const figures = sums.figures();
    expect(figures.loss).toBeCloseTo(expected, 12);
    // Row 1 predicts class 1 (label 2): wrong; a tie picks the first class: row 2 predicts 0 (label 1): wrong.
    expect(figures.accuracy).toBeCloseTo(1 / 3, 12);
  });

  it('when logits are large, stays finite (log-softmax, not softmax then log)', () => {
    const sums = new EvaluationSums('classes');
    sums.add([1000, -1000], 2, [1]);
    expect(sums.figures().loss).toBeCloseTo(2000, 6);
  });

  it('when targets are real values, gives the mean squared error over every output and no accuracy', () => {
    const sums = new EvaluationSums('values');
    sums.add([1, 2, 3, 4], 2, [1, 0, 3, 2]);
    expect(sums.figures()).toEqual({ loss: (0 + 4 + 0 + 4) / 4 });
  });

  it('when a label is not a class of the outputs, or the sizes disagree, refuses the batch', () => {
    const sums = new EvaluationSums('classes');
    expect(() => sums.add([0, 1], 2, [2])).toThrow(/not a class/);
    expect(() => sums.add([0, 1], 2, [0.5])).toThrow(/not a class/);
    expect(() => sums.add([0, 1, 2], 2, [0])).toThrow(/multiple of 2/);
    expect(() => sums.add([0, 1], 2, [0, 1])).toThrow(/one value per row/);
    expect(() => new EvaluationSums('values').figures()).toThrow(/No rows/);
  });

  it('reads integer dtypes as class labels and float dtypes as targets, in numpy or safetensors names', () => {
    expect(['int64', 'I64', 'uint8', 'U8', 'int32'].map(targetKind)).toEqual(Array(5).fill('classes'));
    expect(['float32', 'F32', 'float64', 'F16', 'BF16'].map(targetKind)).toEqual(Array(5).fill('values'));
  });
});

import { argmaxLastDim, meanOverSamples, softmax, stackSamples } from '../../../src/inference/output-ops';
import { type FloatTensor, mapValues } from '../../../src/inference/tensor';
import { categoricalEntropy, interpretUncertainty } from '../../../src/inference/uncertainty';

const tensor = (dims: number[], values: number[]): FloatTensor => ({ dims, data: Float32Array.from(values) });
const values = (t: FloatTensor | undefined): number[] => Array.from(t?.data ?? []);

describe('interpretUncertainty', () => {
  // Two samples of one row over two classes: p1 = (0.2, 0.8), p2 = (0.6, 0.4).
  const stacked = tensor([2, 1, 2], [0.2, 0.8, 0.6, 0.4]);
  const h = (p: number[]) => -p.reduce((sum, q) => sum + (q === 0 ? 0 : q * Math.log(q)), 0);

  it('when outputs are probabilities, it gives unbiased variance, std and the entropies by hand', () => {
    const figures = interpretUncertainty(stacked);
    expect(figures.variance.dims).toEqual([1, 2]);
    // Each class: values 0.2/0.6 and 0.8/0.4, mean ± 0.2, unbiased variance 2·0.04/1 = 0.08.
    values(figures.variance).forEach((v) => expect(v).toBeCloseTo(0.08, 6));
    values(figures.std).forEach((s) => expect(s).toBeCloseTo(Math.sqrt(0.08), 6));
    const predictive = h([0.4, 0.6]);
    const expected = (h([0.2, 0.8]) + h([0.6, 0.4])) / 2;
    expect(figures.predictive_entropy?.dims).toEqual([1]);
    expect(values(figures.predictive_entropy)[0]).toBeCloseTo(predictive, 6);
    expect(values(figures.expected_entropy)[0]).toBeCloseTo(expected, 6);
    expect(values(figures.mutual_info)[0]).toBeCloseTo(predictive - expected, 6);
  });

  it('when samples are identical, variance and std are exactly 0 and mutual information 0', () => {
    const same = tensor([2, 3], [0.1, 0.3, 0.6, 0.7, 0.2, 0.1]);
    const four = stackSamples([same, same, same, same]);
    const figures = interpretUncertainty(four);
    expect(values(figures.variance)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(values(figures.std)).toEqual([0, 0, 0, 0, 0, 0]);
    values(figures.mutual_info).forEach((m) => expect(m).toBeCloseTo(0, 6));
  });

  it('when any output is negative or above 1, there are no entropy keys', () => {
    expect(Object.keys(interpretUncertainty(tensor([2, 1, 2], [-0.5, 1.2, 0.3, 0.4])))).toEqual(['variance', 'std']);
    expect(Object.keys(interpretUncertainty(tensor([2, 1, 2], [0.5, 1.5, 0.3, 0.4])))).toEqual(['variance', 'std']);
  });

  it('when there is one sample, variance is NaN as in the reference', () => {
    const figures = interpretUncertainty(tensor([1, 1, 2], [0.3, 0.7]));
    expect(values(figures.variance).every(Number.isNaN)).toBe(true);
    expect(values(figures.std).every(Number.isNaN)).toBe(true);
  });
});

describe('categoricalEntropy', () => {
  it('when probabilities do not sum to 1, it renormalizes them; zeros contribute nothing', () => {
    expect(categoricalEntropy([2, 2])).toBeCloseTo(Math.log(2), 12);
    expect(categoricalEntropy([0, 0.5])).toBe(0);
    expect(categoricalEntropy([1 / 3, 1 / 3, 1 / 3])).toBeCloseTo(Math.log(3), 12);
  });
});

describe('output operations', () => {
  it('when samples are averaged, the mean is over the first axis', () => {
    const mean = meanOverSamples(tensor([2, 1, 3], [1, 2, 3, 3, 4, 5]));
    expect(mean.dims).toEqual([1, 3]);
    expect(values(mean)).toEqual([2, 3, 4]);
  });

  it('when logits are softmaxed, each row sums to 1 and large logits do not overflow', () => {
    const p = softmax(tensor([2, 2], [0, Math.log(3), 1000, 1000]));
    expect(values(p)[0]).toBeCloseTo(0.25, 6);
    expect(values(p)[1]).toBeCloseTo(0.75, 6);
    expect(values(p).slice(2)).toEqual([0.5, 0.5]);
  });

  it('when a row has ties, argmax picks the first largest class', () => {
    const classes = argmaxLastDim(tensor([3, 3], [0.1, 0.7, 0.2, 5, 5, 1, -3, -2, -1]));
    expect(classes.dims).toEqual([3]);
    expect(values(classes)).toEqual([1, 0, 2]);
  });

  it('when samples have different shapes, stacking refuses them', () => {
    expect(() => stackSamples([tensor([1, 2], [1, 2]), tensor([2, 1], [1, 2])])).toThrow(/sample 1 has shape \[2, 1\]/);
  });
});

describe('mapValues', () => {
  it("gives what the typed array's from gives with the same function, value and index, in the type asked for", () => {
    const source = [1.5, -2, 1e-45, 3.4e38, 0.1];
    const fn = (value: number, index: number) => value * 3 + index;
    const wide = mapValues(source, fn);
    expect(wide).toBeInstanceOf(Float64Array);
    expect(wide).toEqual(Float64Array.from(source, fn));
    const narrow = mapValues(Float32Array.from(source), fn, Float32Array);
    expect(narrow).toBeInstanceOf(Float32Array);
    expect(narrow).toEqual(Float32Array.from(Float32Array.from(source), fn));
    expect(mapValues([], fn)).toEqual(new Float64Array(0));
  });
});

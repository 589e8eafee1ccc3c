import { nestedList } from '../../../src/api/routes/nested-list';

describe('nestedList', () => {
  it('lays a row-major array out as nested lists of its shape, from an offset', () => {
    const data = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(nestedList([2, 3], data)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(nestedList([2, 1, 2], data, 1)).toEqual([[[1, 2]], [[3, 4]]]);
    expect(nestedList([4], data, 9)).toEqual([9, 10, 11, 12]);
    expect(nestedList([], data, 7)).toBe(7);
  });

  it('writes null for what JSON cannot hold, and empty lists for a zero dimension', () => {
    expect(nestedList([3], [NaN, Infinity, -1])).toEqual([null, null, -1]);
    expect(nestedList([2, 0, 3], [])).toEqual([[], []]);
    // Past the end of the data: null, as for any missing value.
    expect(nestedList([2], [1])).toEqual([1, null]);
  });
});

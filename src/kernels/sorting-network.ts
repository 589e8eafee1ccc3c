/**
 * Batcher's odd–even merge sort as a list of comparators: for wires i < j, each puts the smaller value on i and the
 * larger on j. A fixed list sorts every input with no branch on the data, which is what SIMD lanes need; for n not a
 * power of two the network of the next power is cut to the first n wires (the missing inputs behave as +∞ on the
 * wires above n and never move). 19 comparators for 8 wires, 63 for 16.
 */
export function sortingNetwork(wires: number): (readonly [number, number])[] {
  const comparators: [number, number][] = [];
  for (let p = 1; p < wires; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      for (let j = k % p; j + k < wires; j += 2 * k) {
        for (let i = 0; i < Math.min(k, wires - j - k); i++) {
          if (Math.floor((i + j) / (2 * p)) === Math.floor((i + j + k) / (2 * p))) {
            comparators.push([i + j, i + j + k]);
          }
        }
      }
    }
  }
  return comparators;
}

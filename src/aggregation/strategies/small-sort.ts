/**
 * Sorts for the coordinate-wise rules, which sort a handful of values (one per client) for every coordinate of a
 * model: a call to a native sort or a comparator closure costs more than the sorting itself at that size, so small
 * arrays are insertion-sorted in place, larger ones handed to a sort that is O(n log n).
 */

/** Up to this many elements, insertion sort beats the alternatives. */
const INSERTION_LIMIT = 32;

/**
 * Sorts `values` ascending in place, in exactly the order `Float64Array.prototype.sort()` gives: −0 before +0, NaN
 * last. That keeps the median's bits (the sign of a zero) what they were with the native sort.
 */
export function sortAscending(values: Float64Array): void {
  if (values.length > INSERTION_LIMIT) {
    values.sort();
    return;
  }
  for (let i = 1; i < values.length; i++) {
    const x = values[i] ?? 0;
    let j = i - 1;
    while (j >= 0 && after(values[j] ?? 0, x)) {
      values[j + 1] = values[j] ?? 0;
      j--;
    }
    values[j + 1] = x;
  }
}

/** Whether the native typed-array sort puts `p` after `x`. */
function after(p: number, x: number): boolean {
  // NaN goes after every number; +0 after −0 (1/+0 is +Infinity, 1/−0 is −Infinity).
  return p > x || (p !== p ? x === x : p === 0 && x === 0 && 1 / p > 1 / x);
}

/**
 * Reorders the indexes in `order` so that `keys[order[0]] <= keys[order[1]] <= …`, keeping equal keys in the order
 * they came (a stable sort, like `Array.prototype.sort` with `(a, b) => keys[a] - keys[b]`). Keys must not be NaN.
 * `scratch` is working space at least as long as `order`.
 */
export function stableOrder(keys: Float64Array, order: Int32Array, scratch: Int32Array): void {
  if (order.length <= INSERTION_LIMIT) {
    insertionOrder(keys, order, 0, order.length);
    return;
  }
  mergeOrder(keys, order, scratch, 0, order.length);
}

/** Insertion sort of order[from, to) by key: an element moves only past strictly greater keys, so ties keep order. */
function insertionOrder(keys: Float64Array, order: Int32Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const index = order[i] ?? 0;
    const key = keys[index] ?? 0;
    let j = i - 1;
    while (j >= from && (keys[order[j] ?? 0] ?? 0) > key) {
      order[j + 1] = order[j] ?? 0;
      j--;
    }
    order[j + 1] = index;
  }
}

/** Top-down merge sort of order[from, to) by key; the left run wins ties, so the sort is stable. */
function mergeOrder(keys: Float64Array, order: Int32Array, scratch: Int32Array, from: number, to: number): void {
  if (to - from <= INSERTION_LIMIT) {
    insertionOrder(keys, order, from, to);
    return;
  }
  const middle = (from + to) >>> 1;
  mergeOrder(keys, order, scratch, from, middle);
  mergeOrder(keys, order, scratch, middle, to);
  scratch.set(order.subarray(from, middle), from);
  let left = from;
  let right = middle;
  let out = from;
  while (left < middle && right < to) {
    const a = scratch[left] ?? 0;
    const b = order[right] ?? 0;
    if ((keys[b] ?? 0) < (keys[a] ?? 0)) {
      order[out++] = b;
      right++;
    } else {
      order[out++] = a;
      left++;
    }
  }
  while (left < middle) {
    order[out++] = scratch[left++] ?? 0;
  }
}

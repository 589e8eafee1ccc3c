import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import { checkDims, type InputLimits, MAX_RANK } from './input-limits';

/**
 * Decodes a JSON nested list of finite numbers into a row-major tensor. Its shape is read along the first items
 * (`value[0][0]…`), then every list is checked against it, so a ragged list is refused naming where it differs.
 * @throws 400 naming the path of the first ragged, non-numeric or empty part, or the rank or size that is too large.
 */
export function decodeNestedList(value: readonly unknown[], limits: InputLimits): FloatTensor {
  const dims = shapeAlongFirstItems(value);
  const data = new Float32Array(checkDims(dims, limits));
  let next = 0;
  const visit = (list: readonly unknown[], path: readonly number[]): void => {
    const depth = path.length;
    if (list.length !== dims[depth]) {
      throw inputError(
        'not_rectangular',
        `Model input is not rectangular: ${pathName(path)} has ${list.length} items, ${firstPath(depth)} has ${dims[depth]}.`,
      );
    }
    const leaves = depth + 1 === dims.length;
    list.forEach((item, index) => {
      if (leaves) {
        // The path is only built for an error: a large input has millions of leaves.
        data[next++] = leafNumber(item, path, index);
      } else if (Array.isArray(item)) {
        visit(item, [...path, index]);
      } else {
        throw inputError(
          'not_rectangular',
          `Model input is not rectangular: ${pathName([...path, index])} is ${describe(item)}, ${firstPath(depth + 1)} is a list.`,
        );
      }
    });
  };
  visit(value, []);
  return { dims, data };
}

/** Follows `value[0][0]…` down to the first non-list, which also bounds the recursion depth to MAX_RANK. */
function shapeAlongFirstItems(value: readonly unknown[]): number[] {
  const dims: number[] = [];
  let current: unknown = value;
  while (Array.isArray(current)) {
    if (current.length === 0) {
      throw inputError('empty', `Model input is empty: ${firstPath(dims.length)} has no items.`);
    }
    dims.push(current.length);
    if (dims.length > MAX_RANK) {
      throw inputError('bad_rank', `Model input nests lists deeper than ${MAX_RANK} levels.`);
    }
    current = current[0];
  }
  return dims;
}

function leafNumber(item: unknown, parent: readonly number[], index: number): number {
  if (typeof item === 'number' && Number.isFinite(item)) {
    return item;
  }
  const path = [...parent, index];
  if (Array.isArray(item)) {
    throw inputError(
      'not_rectangular',
      `Model input is not rectangular: ${pathName(path)} is a list, ${firstPath(path.length)} is a number.`,
    );
  }
  throw inputError('not_numeric', `Model input must hold only finite numbers: ${pathName(path)} is ${describe(item)}.`);
}

function describe(item: unknown): string {
  if (typeof item === 'number') {
    return String(item);
  }
  if (typeof item === 'string') {
    return `the string ${JSON.stringify(item.length > 20 ? `${item.slice(0, 20)}…` : item)}`;
  }
  if (Array.isArray(item)) {
    return 'a list';
  }
  return typeof item === 'object' && item !== null ? 'an object' : String(item);
}

function pathName(path: readonly number[]): string {
  return `model_input${path.map((index) => `[${index}]`).join('')}`;
}

function firstPath(depth: number): string {
  return pathName(new Array<number>(depth).fill(0));
}

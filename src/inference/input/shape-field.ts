import { inputError } from '../../errors';

/**
 * Validates the request's optional `shape` field: a JSON list of positive integers, or (from a form) a string holding
 * one (`[16, 784]`) or comma-separated integers (`16,784`). Rank and size are checked later, with the input.
 * @returns the dimensions, or undefined when the field is absent or empty.
 * @throws 400 saying which entry is not a positive integer.
 */
export function parseShapeField(raw: unknown): number[] | undefined {
  if (raw === undefined || raw === null || raw === '') {
    return undefined;
  }
  const entries = typeof raw === 'string' ? splitShapeText(raw) : raw;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw inputError(
      'bad_shape',
      `shape must be a non-empty list of positive integers such as [1, 28, 28]; got ${show(raw)}.`,
    );
  }
  return entries.map((entry: unknown, index) => {
    if (typeof entry !== 'number' || !Number.isSafeInteger(entry) || entry < 1) {
      throw inputError('bad_shape', `shape[${index}] is ${show(entry)}; every dimension must be a positive integer.`);
    }
    return entry;
  });
}

function splitShapeText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      throw inputError('bad_shape', `shape looks like a JSON list but is not valid JSON: ${show(text)}.`);
    }
  }
  // "16, 784" from a form field: each part must be plain digits, so "1e3" or "2.5" are refused, not rounded.
  return trimmed.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : part.trim()));
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

import type { z } from 'zod';
import { fieldInvalid, invalidInput } from '../../errors';
import type { AppError } from '../../errors';
import { JsonText } from './json-text';

/** Marshmallow-style messages (the reference's wording for trainings and client lists) for zod's own issues. */
export function fieldMessage(issue: z.core.$ZodRawIssue | z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'Missing data for required field.' : `Not a valid ${issue.expected}.`;
    case 'unrecognized_keys':
      return 'Unknown field.';
    case 'invalid_value':
      return issue.input === undefined
        ? 'Missing data for required field.'
        : `Must be one of: ${issue.values.map(String).join(', ')}.`;
    case 'invalid_format':
      return issue.format === 'uuid' || issue.format === 'guid' ? 'Not a valid UUID.' : `Not a valid ${issue.format}.`;
    case 'too_small':
      return `Must be greater than ${issue.inclusive === false ? '' : 'or equal to '}${String(issue.minimum)}.`;
    case 'too_big':
      return `Must be less than ${issue.inclusive === false ? '' : 'or equal to '}${String(issue.maximum)}.`;
    default:
      return issue.message ?? 'Invalid value.';
  }
}

/** Messages that already say which field they are about; they are shown without a `field: ` prefix. */
const SELF_DESCRIBING = [
  /^Missing required field: /,
  /^Invalid type for field: /,
  / not found\.$/,
  /^No uploaded file /,
];

/** True when `message` names its field itself (the reference's sentences). */
function selfDescribing(message: string, field: string): boolean {
  return message.startsWith(`${field} `) || SELF_DESCRIBING.some((pattern) => pattern.test(message));
}

/**
 * Turns zod issues into a 400: `details` maps each field to its messages (unknown keys each get "Unknown field."),
 * `detail` is the first one as `field: message`, or as is for the reference's sentences that name their field.
 */
export function validationError(issues: readonly z.core.$ZodIssue[], location: string): AppError {
  // A Map, not an object: field names are the client's, and `__proto__` or `constructor` must be plain keys.
  const details = new Map<string, string[]>();
  const lines: string[] = [];
  for (const issue of issues) {
    const fields =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [...issue.path, key].join('.'))
        : [issue.path.map(String).join('.')];
    for (const field of fields) {
      const name = field || location;
      details.set(name, [...(details.get(name) ?? []), issue.message]);
      lines.push(field && !selfDescribing(issue.message, field) ? `${field}: ${issue.message}` : issue.message);
    }
  }
  return invalidInput(lines[0] ?? 'Invalid input.', Object.fromEntries(details));
}

/**
 * 400 for the first string of a request body that holds U+0000, which Postgres cannot store in text, with Django REST
 * framework's words; undefined when there is none.
 */
export function nullCharacterError(body: unknown, location: string): AppError | undefined {
  const path = nullCharacterPath(body);
  if (path === undefined) {
    return undefined;
  }
  const field = path.join('.') || location;
  const message = 'Null characters are not allowed.';
  return fieldInvalid(field, message);
}

/**
 * The path (below `value`) of the first string holding U+0000, or of the object with such a key. Numbers, the bulk
 * of an inference input's nested lists, are passed over without allocating anything; the path is built only for a
 * find, on the way back up.
 */
function nullCharacterPath(value: unknown): string[] | undefined {
  if (typeof value === 'string') {
    return value.includes('\u0000') ? [] : undefined;
  }
  if (typeof value !== 'object' || value === null || value instanceof JsonText) {
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      if (typeof item === 'string' || (typeof item === 'object' && item !== null)) {
        const found = nullCharacterPath(item);
        if (found) {
          return [String(i), ...found];
        }
      }
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) {
      return [];
    }
    const found = nullCharacterPath(item);
    if (found) {
      return [key, ...found];
    }
  }
  return undefined;
}

/** JSON types a JSON body must use for the fields the document types so (a form sends them as text). */
export type StrictJsonType = 'boolean' | 'integer';

/**
 * 400 for the first field of a JSON body that the document types as a boolean or an integer but that came as another
 * JSON type (`"true"`, `"3"`): only forms, whose values are all text, send those as strings.
 */
export function jsonTypeError(body: unknown, fields: ReadonlyMap<string, StrictJsonType>): AppError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return undefined;
  }
  for (const [field, type] of fields) {
    const value = (body as Record<string, unknown>)[field];
    const fits = type === 'boolean' ? typeof value === 'boolean' : Number.isInteger(value);
    if (value !== undefined && !fits) {
      const message = `Not a valid ${type}.`;
      return fieldInvalid(field, message);
    }
  }
  return undefined;
}

import type { z } from 'zod';
import { invalidInput } from '../../errors';
import type { AppError } from '../../errors';

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
  const details: Record<string, string[]> = {};
  const lines: string[] = [];
  for (const issue of issues) {
    const fields =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [...issue.path, key].join('.'))
        : [issue.path.map(String).join('.')];
    for (const field of fields) {
      const name = field || location;
      (details[name] ??= []).push(issue.message);
      lines.push(field && !selfDescribing(issue.message, field) ? `${field}: ${issue.message}` : issue.message);
    }
  }
  return invalidInput(lines[0] ?? 'Invalid input.', details);
}

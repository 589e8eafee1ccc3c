import { z } from 'zod';
import { documentAs, jsonSchemaOf } from '../openapi/documented';

/** A path id that must be a UUID; a malformed one is a 400 with the reference's "<Class> <id> not found." text. */
export function uuidParams(className: string): z.ZodObject<{ id: z.ZodGUID }> {
  return z.object({ id: z.guid({ error: (issue) => `${className} ${String(issue.input)} not found.` }) });
}

/** The largest value of the database's integer columns (rounds, sample sizes, target_num_updates). */
export const INT32_MAX = 2_147_483_647;

/** `{"detail": "..."}`: the reference's success and error messages. */
export const detailSchema = z.object({ detail: z.string() });

/** The error envelope every failure answers with. */
export const errorSchema = z.object({
  detail: z.string(),
  code: z.string(),
  details: z.unknown().optional(),
});

/** A text field that must be present: a missing one is Django's `Missing required field: <field>`. */
export function requiredString(field: string): z.ZodString {
  return z.string({ error: (issue) => (issue.input === undefined ? `Missing required field: ${field}` : undefined) });
}

/** The words a form field may give a boolean as, in any case (Django REST framework's). */
const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n'] as const;

/** A pattern matching `BOOLEAN_WORDS` in any case (JSON Schema patterns have no case-insensitive flag). */
const BOOLEAN_WORD_PATTERN = `^(${BOOLEAN_WORDS.map((word) =>
  [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join(''),
).join('|')})$`;

/**
 * A boolean from JSON or from a form field (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case);
 * documented as a boolean in JSON and, in forms, as those words too.
 */
export const formBoolean = documentAs(
  z.union([
    z.boolean(),
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(BOOLEAN_WORDS))
      .transform((value) => ['true', '1', 'yes', 'on', 't', 'y'].includes(value)),
  ]),
  { type: 'boolean' },
  { anyOf: [{ type: 'boolean' }, { enum: [0, 1] }, { type: 'string', pattern: BOOLEAN_WORD_PATTERN }] },
);

/** An integer from JSON or from a form field; documented as an integer. */
export const formInteger = documentAs(
  z.union(
    [
      z.number().int(),
      z
        .string()
        .regex(/^\s*-?\d+\s*$/)
        .transform(Number),
    ],
    // Neither form fitted: say what does, rather than the union's bare "Invalid value."
    { error: 'Must be a whole number.' },
  ),
  { type: 'integer' },
  { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^\\s*-?\\d+\\s*$' }] },
);

/** A whole number of at least `min` (and at most `max`, when given) in a query string or form field. */
export function boundedInteger(min: number, description: string, max?: number): z.ZodType<number, unknown> {
  const number = z.number().int().min(min);
  return documentAs(formInteger.pipe(max === undefined ? number : number.max(max)), {
    type: 'integer',
    minimum: min,
    ...(max === undefined ? {} : { maximum: max }),
    description,
  });
}

/**
 * One or more values of a repeated form field, or a JSON array, as an array. A single value is taken as a list of
 * one, and the document says so: in a form, one part of a repeated field is exactly a one-element list.
 */
export function repeated<T extends z.ZodType>(item: T): z.ZodType<z.output<T>[], unknown> {
  return documentAs(z.union([z.array(item), item.transform((value) => [value])]), () => {
    const one = jsonSchemaOf(item);
    return { anyOf: [{ type: 'array', items: one }, one] };
  });
}

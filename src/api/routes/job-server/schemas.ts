import path from 'node:path';
import { z } from 'zod';
import { documentAs, type JsonSchema, jsonSchemaOf } from '../../openapi/documented';
import { formBoolean, INT32_MAX } from '../common-schemas';
import { loginBody } from '../auth/schemas';
import { createGroupBody } from '../groups/schemas';

/*
 * The seed-004 client's requests (docs/compatibility.md#the-seed-004-job-server-client): form fields, every one text,
 * with `api=1` beside them once the client knows a CSRF token. It writes Python's None as the text `None` and a
 * missing JSON value as `null`: both are read as an absent field.
 */

/** Python's None and JSON's null, as the client writes them into a form. */
const ABSENT_WORDS: ReadonlySet<unknown> = new Set(['None', 'null']);

/** What a form field that may be null takes: its own form, or null (which a form carries as the text `null`). */
function nullableInForms(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}

/**
 * The field the client adds to every POST; it says nothing the path does not. Any short text, `null` included (a
 * form null arrives as that word), so it is documented as nullable in forms.
 */
const API_TEXT: JsonSchema = { type: 'string', maxLength: 8 };
const apiField = { api: documentAs(z.string().max(8), API_TEXT, nullableInForms(API_TEXT)).optional() };

/**
 * An optional field whose `None` or `null` means absent; documented as `schema`, and in forms also as null or
 * those words (the server takes them as absent).
 */
function optional<T extends z.ZodType>(schema: T): z.ZodType<z.output<T> | undefined, unknown> {
  return documentAs(
    z.preprocess((value) => (ABSENT_WORDS.has(value) ? undefined : value), schema.optional()),
    () => jsonSchemaOf(schema),
    nullableInForms({ anyOf: [jsonSchemaOf(schema, 'input', 'form'), { type: 'string', enum: [...ABSENT_WORDS] }] }),
  );
}

/** A finite number, as Python's `str(float)` writes one. */
const clientFloat = documentAs(
  z.union([
    z.number(),
    z
      .string()
      .trim()
      .refine((text) => text !== '' && Number.isFinite(Number(text)), 'Must be a number.')
      .transform(Number),
  ]),
  { type: 'number' },
  { type: 'string', pattern: '^\\s*[-+0-9.eE]+\\s*$' },
);

/** A JSON document in a form field (`json.dumps` of a list or a dict), kept as the text it came in. */
const jsonText = z
  .string()
  .max(1 << 24)
  .refine((text) => isJson(text), 'Must be JSON.');

/** Metric names are at most 64 characters: `validation/` leaves 53 for an extra score's, `picture/` 56 for a file's. */
const SCORE_NAME_MAX = 53;
const PICTURE_NAME_MAX = 56;

/** `extra_scores_*`: a JSON object of numbers by name. */
const jsonScores = documentAs(
  z.string().transform((text, ctx) => {
    const parsed: unknown = isJson(text) ? JSON.parse(text) : undefined;
    const scores = z.record(z.string().min(1).max(SCORE_NAME_MAX), z.number()).safeParse(parsed);
    if (!scores.success) {
      ctx.addIssue({
        code: 'custom',
        message: `Must be a JSON object of numbers by names of at most ${SCORE_NAME_MAX} characters.`,
      });
      return z.NEVER;
    }
    return scores.data;
  }),
  { type: 'string', contentMediaType: 'application/json', description: 'A JSON object of numbers by name.' },
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A body of a call that sends no fields of its own. */
export const emptyBody = z.strictObject(apiField);

/** `POST /accounts/login/`: the REST login's fields. */
export const loginFormBody = loginBody.extend(apiField);

/**
 * `?next=`: where a login redirects to. Any text is taken: one that is not a path of this site (or is longer than
 * `MAX_NEXT_LENGTH`) sends the browser to the default instead, as Django does with an unsafe `next`.
 */
export const loginQuery = z.object({ next: z.string().optional() });

/** The longest `next` a login follows. */
export const MAX_NEXT_LENGTH = 2048;

/** `POST /actions/add_group/`: `public` is Python's `True` or `False`. */
export const addGroupBody = z.strictObject({
  ...apiField,
  group_name: createGroupBody.shape.name,
  public: optional(formBoolean),
});

/** `/actions/join_group/<name>/`: the name as `quote_plus` wrote it, decoded. */
export const groupNameParams = z.object({ name: z.string().min(1).max(150) });

/** An integer id in a path: a task's (job id), a round's or a dataset's. */
export const integerIdParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,10}$/, 'Must be a positive integer.')
    .transform(Number)
    .refine((id) => id >= 1 && id <= INT32_MAX, 'Must be a positive integer.'),
});

/** `/actions/get_model/<id>/`: a model's UUID. */
export const modelIdParams = z.object({ id: z.guid({ error: (issue) => `Model ${String(issue.input)} not found.` }) });

/** `POST /actions/update_job_details/<id>.json/`. */
export const jobDetailsBody = z.strictObject({
  ...apiField,
  score_test: optional(clientFloat),
  score_validation: optional(clientFloat),
  labels_training: optional(jsonText),
  labels_test: optional(jsonText),
  labels_validation: optional(jsonText),
  extra_scores_test: optional(jsonScores),
  extra_scores_validation: optional(jsonScores),
  message: optional(z.string().max(10_000)),
  success: optional(formBoolean),
});
export type JobDetailsRequest = z.output<typeof jobDetailsBody>;

/** `POST /actions/add_job_picture/<id>.json/`: the file's path on the client and its bytes in base64. */
export const jobPictureBody = z.strictObject({
  ...apiField,
  filename: z
    .string()
    .max(1024)
    .refine((name) => {
      const base = path.basename(name);
      return base !== '' && base.length <= PICTURE_NAME_MAX;
    }, `Must end in a file name of 1 to ${PICTURE_NAME_MAX} characters.`),
  data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Must be base64.'),
});

/** `env.json/`. */
export const envResponse = z.object({ csrftoken: z.string(), user: z.string().nullable() });

/** `ok.json`. */
export const okResponse = z.object({ status: z.literal('ok'), user: z.string() });

/** `get_groups.json/`: the groups the caller sees, by name. */
export const groupsByNameResponse = z.record(
  z.string(),
  z.object({ id: z.number().int(), public: z.boolean(), members: z.array(z.string()), member: z.boolean() }),
);

/** `ping/`: a job id, or null. */
export const pingResponse = z.number().int().nullable();

/** `get_job_params/<id>.json/`. */
export const jobParamsResponse = z.object({
  algorithm: z.string(),
  dataset: z.number().int().nullable(),
  params: z.object({
    type: z.string(),
    training: z.string(),
    round: z.number().int().nullable(),
    round_id: z.number().int().nullable(),
    model_id: z.string(),
    model_url: z.string(),
    upload_url: z.string(),
    deadline: z.string().nullable(),
    options: z.record(z.string(), z.unknown()),
    metric_names: z.array(z.string()),
    body: z.record(z.string(), z.unknown()),
  }),
});
export type JobParamsResponse = z.infer<typeof jobParamsResponse>;

/** `get_datasets.json/`: the datasets whose rows the caller reads, by id. */
export const datasetsByIdResponse = z.record(
  z.string(),
  z.object({
    name: z.string(),
    description: z.string(),
    rows: z.number().int(),
    x_shape: z.array(z.number().int()),
    y_shape: z.array(z.number().int()),
    url: z.string(),
    points: z.number().int(),
    cut: z.boolean(),
  }),
);
export type DatasetsByIdResponse = z.infer<typeof datasetsByIdResponse>;

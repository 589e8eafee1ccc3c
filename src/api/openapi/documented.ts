import { z } from 'zod';

/** A JSON Schema object as the OpenAPI document holds it. */
export type JsonSchema = Record<string, unknown>;

/** JSON Schema keywords that describe a value rather than constrain it. */
const ANNOTATIONS = new Set(['default', 'description', 'title', 'examples', 'deprecated', 'readOnly', 'writeOnly']);

/** What the document says of a schema whose parsing is looser or other than its meaning (see `documentAs`). */
const documented = new WeakMap<z.core.$ZodType, () => JsonSchema>();
/** What it says of the same schema in a form body, where every value is text (see `documentAs`). */
const documentedInForms = new WeakMap<z.core.$ZodType, () => JsonSchema>();

/** The body encodings a schema is documented for: JSON, or a form (urlencoded or multipart), where values are text. */
export type BodyEncoding = 'json' | 'form';

/**
 * Registers what the OpenAPI document says of `schema` instead of what zod would derive: form fields arrive as text
 * and are parsed into integers, booleans or lists, which the document gives as the type they mean (the form
 * encoding turns them into text again); a body documented per variant gives its variants. Returns `schema`.
 * `describe` runs when the document is built, not at start.
 */
export function documentAs<T extends z.ZodType>(
  schema: T,
  describe: JsonSchema | (() => JsonSchema),
  inForms?: JsonSchema,
): T {
  documented.set(schema, typeof describe === 'function' ? describe : () => describe);
  if (inForms) {
    documentedInForms.set(schema, () => inForms);
  }
  return schema;
}

/**
 * The JSON Schema of what `schema` takes in (or, for `output`, gives out), with the `documentAs` overrides; in a
 * form body, a field's form description where it has one (a boolean written `0` or `off` is text like any other).
 */
export function jsonSchemaOf(
  schema: z.ZodType,
  io: 'input' | 'output' = 'input',
  encoding: BodyEncoding = 'json',
): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      const describe =
        (encoding === 'form' ? documentedInForms.get(ctx.zodSchema) : undefined) ?? documented.get(ctx.zodSchema);
      if (describe) {
        // The type is replaced; annotations a wrapper added (a default, a description) stay.
        for (const key of Object.keys(ctx.jsonSchema)) {
          if (!ANNOTATIONS.has(key)) {
            delete (ctx.jsonSchema as JsonSchema)[key];
          }
        }
        Object.assign(ctx.jsonSchema, describe());
      }
    },
  });
  return rest;
}

import { z } from 'zod';

// The length limit holds for the name as sent, so that what the document says (maxLength) is what is refused.
const groupName = z
  .string({ error: (issue) => (issue.input === undefined ? 'This field is required.' : undefined) })
  .max(150, 'Ensure this field has no more than 150 characters.')
  .trim()
  .min(1, 'This field may not be blank.');

/** `POST` and `PUT /api/groups/...`. */
export const groupBody = z.strictObject({ name: groupName });

/** `PATCH /api/groups/{id}/`. */
export const groupPatchBody = z.strictObject({ name: groupName.optional() });

/** Group ids are integers; a malformed one is a 400 with the reference's text. */
export const groupParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,9}$/, { error: (issue) => `Group ${String(issue.input)} not found.` })
    .transform(Number),
});

/** `{"id", "name"}`. */
export const groupResponse = z.object({ id: z.number().int(), name: z.string() });
export type GroupResponse = z.infer<typeof groupResponse>;

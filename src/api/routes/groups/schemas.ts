import { z } from 'zod';
import { formBoolean, repeated } from '../common-schemas';

// The length limit holds for the name as sent, so that what the document says (maxLength) is what is refused.
const groupName = z
  .string({ error: (issue) => (issue.input === undefined ? 'This field is required.' : undefined) })
  .max(150, 'Ensure this field has no more than 150 characters.')
  .trim()
  .min(1, 'This field may not be blank.');

// Lower-cased, so that one user named in two spellings is one user, and ids compare with those Postgres answers.
const userId = z
  .guid({ error: (issue) => `${String(issue.input)} is not a user id.` })
  .transform((id) => id.toLowerCase());

/** `POST /api/groups/`: the caller becomes the owner. */
export const createGroupBody = z.strictObject({ name: groupName, public: formBoolean.optional() });
export type CreateGroupRequest = z.output<typeof createGroupBody>;

/** `PUT /api/groups/{id}/`: `name` is required; `owner` hands the group to another member. */
export const updateGroupBody = z.strictObject({
  name: groupName,
  public: formBoolean.optional(),
  owner: userId.optional(),
});

/** `PATCH /api/groups/{id}/`: any of `PUT`'s fields. */
export const patchGroupBody = updateGroupBody.partial();
export type PatchGroupRequest = z.output<typeof patchGroupBody>;

/** `POST` and `DELETE /api/groups/{id}/members/`. */
export const membersBody = z.strictObject({ user_ids: repeated(userId) });

/** Group ids are integers; a malformed one is a 400 with the reference's text. */
export const groupParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,9}$/, { error: (issue) => `Group ${String(issue.input)} not found.` })
    .transform(Number),
});

/** The reference's `{"id", "name"}`, with the owner, whether it is public, and the members' ids. */
export const groupResponse = z.object({
  id: z.number().int(),
  name: z.string(),
  owner: z.uuid().nullable(),
  public: z.boolean(),
  members: z.array(z.uuid()),
});
export type GroupResponse = z.infer<typeof groupResponse>;

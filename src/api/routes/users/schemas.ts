import { z } from 'zod';
import { formBoolean, requiredString, uuidParams } from '../common-schemas';

/**
 * An e-mail address within RFC 5321's limits, which zod's pattern does not check: at most 254 characters in all (the
 * reference's column too), 64 before the `@`, 63 per domain label.
 */
const emailAddress = z
  .email({ error: 'Enter a valid email address.' })
  .max(254, 'Ensure this field has no more than 254 characters.')
  .refine((address) => {
    const at = address.lastIndexOf('@');
    return (
      at <= 64 &&
      address
        .slice(at + 1)
        .split('.')
        .every((label) => label.length <= 63)
    );
  }, 'Enter a valid email address.');

/** `POST /api/users/`: registration takes exactly these fields; anything else is refused as unknown. */
export const createUserBody = z.strictObject({
  username: requiredString('username')
    .min(1)
    .max(150)
    .regex(
      /^[\w.@+-]+$/,
      'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
    ),
  password: requiredString('password').min(1).max(1024),
  first_name: z.string().max(150).default(''),
  last_name: z.string().max(150).default(''),
  email: z.union([z.literal(''), emailAddress]).default(''),
  message_endpoint: z
    .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'Enter a valid http(s) URL.' })])
    .default(''),
  actor: formBoolean.default(false),
  client: formBoolean.default(false),
});
export type CreateUserRequest = z.output<typeof createUserBody>;

/** `GET /api/users/{id}/`. */
export const userParams = uuidParams('User');

/**
 * A user as the reference's `UserSerializer` writes it; `token` only for the caller themself, `notification_secret`
 * (the key of the pushes' signatures) only in the registration answer.
 */
export const userResponse = z.object({
  username: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  email: z.string(),
  id: z.uuid(),
  actor: z.boolean(),
  client: z.boolean(),
  message_endpoint: z.string(),
  token: z.string().optional(),
  notification_secret: z.string().optional(),
});
export type UserResponse = z.infer<typeof userResponse>;

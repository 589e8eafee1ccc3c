import type { User } from '../../../db/models/user';
import type { UserResponse } from './schemas';

/** A user in the reference's field order; the token is shown only when `withToken` (the caller themself). */
export function presentUser(user: User, withToken = false): UserResponse {
  return {
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    id: user.id,
    actor: user.actor,
    client: user.client,
    message_endpoint: user.messageEndpoint,
    ...(withToken ? { token: user.token } : {}),
  };
}

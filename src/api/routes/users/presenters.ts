import type { User } from '../../../db/models/user';
import type { UserResponse } from './schemas';

/** Which secrets a presentation shows: the token to the caller themself, the notification secret once, at registration. */
export interface ShownSecrets {
  readonly token?: boolean;
  readonly notificationSecret?: boolean;
}

/** A user in the reference's field order, with the secrets `shown` names. */
export function presentUser(user: User, shown: ShownSecrets = {}): UserResponse {
  return {
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    id: user.id,
    actor: user.actor,
    client: user.client,
    message_endpoint: user.messageEndpoint,
    ...(shown.token ? { token: user.token } : {}),
    ...(shown.notificationSecret ? { notification_secret: user.notificationSecret } : {}),
  };
}

import type { Context } from 'koa';
import { isSessionKey } from '../../auth/session-keys';
import type { User } from '../../db/models/user';
import type { Authenticator } from './authenticate';
import { assertOwnOrigin } from './csrf-guard';
import { SESSION_COOKIE, setSessionCookies } from './session-cookies';

/**
 * Logs a user in with name and password: a new session (deleting the one the request still carried, so that a key
 * planted before the login is worthless after it) and its two cookies. A foreign `Origin` is refused first, so
 * another site cannot log a browser into an account of its choosing.
 * @throws AppError 403 for a foreign origin, 401 for wrong credentials or an inactive user, 429 past the limits.
 */
export async function logIn(
  ctx: Context,
  authenticator: Authenticator,
  credentials: { username: string; password: string },
): Promise<User> {
  assertOwnOrigin(ctx);
  const user = await authenticator.checkPassword({ ...credentials, address: ctx.ip });
  const previous = ctx.cookies.get(SESSION_COOKIE);
  const session = await authenticator.startSession(user.id, isSessionKey(previous) ? previous : undefined);
  setSessionCookies(ctx, session, authenticator.sessionMaxAgeSeconds);
  return user;
}

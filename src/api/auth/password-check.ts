import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuthSettings } from '../../auth/auth-settings';
import { verifyPassword } from '../../auth/passwords';
import type { User } from '../../db/models/user';
import {
  forgetLoginAttempt,
  pruneLoginFailures,
  recordLoginAttempt,
  secondsUntilBelowLimit,
} from '../../db/queries/login-failures';
import { findUserByUsername } from '../../db/queries/users';
import { notAuthenticated, tooManyRequests } from '../../errors';

/** Longer addresses (a forged X-Forwarded-For) are cut: an IPv6 address with a zone fits. */
const ADDRESS_LENGTH = 64;

/**
 * The user `username` names, when `password` is theirs and they are active. A login and every Basic request with a
 * password come here. Each check is first recorded as a failure and refused with 429 when its user name or address
 * already has its limit of failures within the window (so that checks running at once count each other); a check
 * that succeeds is forgotten. A user name nobody has is checked against a fixed hash (`verifyPassword`), so that it
 * costs the time a real one does.
 * @throws AppError 401 for a wrong name or password and for an inactive user, 429 with Retry-After past a limit.
 */
export async function checkPassword(
  knex: Knex,
  settings: AuthSettings,
  credentials: { username: string; password: string; address: string },
): Promise<User> {
  const window = settings.failureWindowSeconds;
  const usernameHash = createHash('sha256').update(credentials.username).digest('hex');
  const address = credentials.address.slice(0, ADDRESS_LENGTH);
  const attempt = await recordLoginAttempt(knex, usernameHash, address);
  const [byName, byAddress] = await Promise.all([
    secondsUntilBelowLimit(knex, { usernameHash }, settings.failuresPerUsername, window, attempt),
    secondsUntilBelowLimit(knex, { address }, settings.failuresPerAddress, window, attempt),
  ]);
  if (byName > 0 || byAddress > 0) {
    await forgetLoginAttempt(knex, attempt);
    const wait = Math.max(byName, byAddress);
    const what = byName > 0 ? 'for this user name' : 'from this address';
    throw tooManyRequests(`Too many failed logins ${what}; try again in ${wait} seconds.`, wait);
  }
  const user = await findUserByUsername(knex, credentials.username);
  const matches = await verifyPassword(user?.passwordHash, credentials.password);
  if (!user || !matches || !user.isActive) {
    await pruneLoginFailures(knex, window);
    throw notAuthenticated('Invalid username/password.');
  }
  await forgetLoginAttempt(knex, attempt);
  return user;
}

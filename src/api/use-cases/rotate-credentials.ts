import type { Knex } from 'knex';
import { generateNotificationSecret, generateToken } from '../../auth/tokens';
import { replaceNotificationSecret, replaceToken } from '../../db/queries/users';

/** Replaces the user's API token; the old one is refused from the next request on. @returns the new token. */
export async function rotateToken(knex: Knex, userId: string): Promise<string> {
  const token = generateToken();
  await replaceToken(knex, userId, token);
  return token;
}

/** Replaces the user's notification secret; pushes from now on are signed with it. @returns the new secret. */
export async function rotateNotificationSecret(knex: Knex, userId: string): Promise<string> {
  const secret = generateNotificationSecret();
  await replaceNotificationSecret(knex, userId, secret);
  return secret;
}

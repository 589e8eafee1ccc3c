import type { Knex } from 'knex';
import type { AuthSettings } from '../../auth/auth-settings';
import { generateSessionKey, hashSessionKey } from '../../auth/session-keys';
import { deleteSession, insertSession, pruneSessions, resumeSession } from '../../db/queries/sessions';
import { findUserById, findUserByToken, recordLogin } from '../../db/queries/users';
import type { Authenticator } from './authenticate';
import { checkPassword } from './password-check';

/** The authenticator of an API process: users, failed logins and sessions in Postgres, shared by every process. */
export function createAuthenticator(knex: Knex, settings: AuthSettings): Authenticator {
  const lifetime = { idleSeconds: settings.sessionIdleSeconds, maxAgeSeconds: settings.sessionMaxAgeSeconds };
  return {
    sessionMaxAgeSeconds: settings.sessionMaxAgeSeconds,
    findByToken: (token) => findUserByToken(knex, token),
    checkPassword: (credentials) => checkPassword(knex, settings, credentials),
    resumeSession: async (key) => {
      const session = await resumeSession(knex, hashSessionKey(key), lifetime);
      if (session === undefined || session === 'expired') {
        return session;
      }
      // A deleted user's sessions go with it (ON DELETE CASCADE); between the two reads it counts as unknown.
      const user = await findUserById(knex, session.userId);
      return user ? { user, csrfToken: session.csrfToken } : undefined;
    },
    startSession: async (userId, replacedKey) => {
      // Login rotates the key and the CSRF token: a key someone planted before the login is worth nothing after it.
      const session = { key: generateSessionKey(), csrfToken: generateSessionKey() };
      await knex.transaction(async (trx) => {
        if (replacedKey !== undefined) {
          await deleteSession(trx, hashSessionKey(replacedKey));
        }
        await insertSession(trx, { keyHash: hashSessionKey(session.key), userId, csrfToken: session.csrfToken });
        await recordLogin(trx, userId);
      });
      await pruneSessions(knex, lifetime);
      return session;
    },
    endSession: (key) => deleteSession(knex, hashSessionKey(key)),
  };
}

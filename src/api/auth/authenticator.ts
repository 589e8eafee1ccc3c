import type { Knex } from 'knex';
import type { AuthSettings } from '../../auth/auth-settings';
import type { User } from '../../db/models/user';
import { generateSessionKey, hashSessionKey } from '../../auth/session-keys';
import { deleteSession, insertSession, pruneSessions, resumeSession } from '../../db/queries/sessions';
import { findUserById, findUserByToken, recordLogin } from '../../db/queries/users';
import type { Changes } from '../cache/change-feed';
import { LookupCache } from '../cache/lookup-cache';
import type { Authenticator, ResumedSession } from './authenticate';
import { checkPassword } from './password-check';

/** How many tokens and sessions an API process keeps, and for how long at most (changes drop them sooner). */
const CACHE_LIMITS = { maxEntries: 10_000, maxAgeMs: 60_000 };

/**
 * The authenticator of an API process: users, failed logins and sessions in Postgres, shared by every process. With
 * `changes`, tokens and sessions are answered from a cache that every change to the user or the session drops (in
 * every process, within the feed's bound); password checks always go to the database.
 */
export function createAuthenticator(knex: Knex, settings: AuthSettings, changes?: Changes): Authenticator {
  const lifetime = { idleSeconds: settings.sessionIdleSeconds, maxAgeSeconds: settings.sessionMaxAgeSeconds };
  const tokens = changes && new LookupCache<User>('tokens', changes, CACHE_LIMITS);
  const sessions = changes && new LookupCache<ResumedSession>('sessions', changes, CACHE_LIMITS);
  const findByToken = (token: string): Promise<User | undefined> => findUserByToken(knex, token);
  const resume = async (keyHash: string): Promise<(ResumedSession & { maxAgeMs: number }) | 'expired' | undefined> => {
    const session = await resumeSession(knex, keyHash, lifetime);
    if (session === undefined || session === 'expired') {
      return session;
    }
    // A deleted user's sessions go with it (ON DELETE CASCADE); between the two reads it counts as unknown.
    const user = await findUserById(knex, session.userId);
    return user ? { user, csrfToken: session.csrfToken, maxAgeMs: session.servableForSeconds * 1000 } : undefined;
  };
  return {
    sessionMaxAgeSeconds: settings.sessionMaxAgeSeconds,
    findByToken: tokens
      ? (token) =>
          tokens.get(token, async () => {
            const user = await findByToken(token);
            return user && { value: user, dependsOn: [`user:${user.id}`] };
          })
      : findByToken,
    checkPassword: (credentials) => checkPassword(knex, settings, credentials),
    resumeSession: async (key) => {
      const keyHash = hashSessionKey(key);
      if (!sessions) {
        return await resume(keyHash);
      }
      // An expired session is deleted on the way (and never kept): its key then misses like an unknown one.
      let expired = false;
      const session = await sessions.get(keyHash, async () => {
        const found = await resume(keyHash);
        expired = found === 'expired';
        if (found === undefined || found === 'expired') {
          return undefined;
        }
        const { maxAgeMs, ...value } = found;
        return { value, dependsOn: [`session:${keyHash}`, `user:${value.user.id}`], maxAgeMs };
      });
      return expired ? 'expired' : session;
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

import type { Knex } from 'knex';
import { raw } from 'objection';
import { Session } from '../models/session';

/** How long sessions live, in seconds. */
export interface SessionLifetime {
  readonly idleSeconds: number;
  readonly maxAgeSeconds: number;
}

/** A session a request may use: its user and CSRF token. */
export interface LiveSession {
  readonly userId: string;
  readonly csrfToken: string;
}

/**
 * The longest a session's last use is left unrecorded: recording it on every request would make every read a write.
 * A session thus ends between `idle - this` and `idle` after its last use.
 */
function touchAfterSeconds(lifetime: SessionLifetime): number {
  return Math.min(60, lifetime.idleSeconds / 10);
}

/** A live session, and how long it may be taken as live without asking again. */
export interface ResumedRow extends LiveSession {
  /**
   * Seconds until the session could expire or its use must be recorded again: a cache may hold it that long (any
   * change to the row is announced besides).
   */
  readonly servableForSeconds: number;
}

/**
 * The session stored under `keyHash` if it is live, recording its use; 'expired' for one that was idle or old (its
 * row is deleted), undefined for none. Expiry is judged by the database's clock, which every API process shares.
 */
export async function resumeSession(
  db: Knex,
  keyHash: string,
  lifetime: SessionLifetime,
): Promise<ResumedRow | 'expired' | undefined> {
  const found = await Session.query(db)
    .findById(keyHash)
    .select('userId', 'csrfToken')
    .select(
      db.raw(
        '(last_used_at <= now() - make_interval(secs => ?) OR created_at <= now() - make_interval(secs => ?)) AS expired',
        [lifetime.idleSeconds, lifetime.maxAgeSeconds],
      ),
      db.raw('last_used_at <= now() - make_interval(secs => ?) AS stale', [touchAfterSeconds(lifetime)]),
      db.raw('extract(epoch FROM now() - last_used_at)::float8 AS idle_seconds'),
      db.raw('extract(epoch FROM now() - created_at)::float8 AS age_seconds'),
    )
    .castTo<
      Pick<Session, 'userId' | 'csrfToken'> & {
        expired: boolean;
        stale: boolean;
        idleSeconds: number;
        ageSeconds: number;
      }
    >();
  if (!found) {
    return undefined;
  }
  if (found.expired) {
    await deleteSession(db, keyHash);
    return 'expired';
  }
  if (found.stale) {
    await Session.query(db)
      .findById(keyHash)
      .patch({ lastUsedAt: raw('now()') });
  }
  const idleSeconds = found.stale ? 0 : found.idleSeconds;
  const servableForSeconds = Math.min(
    lifetime.idleSeconds - idleSeconds,
    lifetime.maxAgeSeconds - found.ageSeconds,
    touchAfterSeconds(lifetime) - idleSeconds,
  );
  return { userId: found.userId, csrfToken: found.csrfToken, servableForSeconds };
}

/** Stores a new session. */
export async function insertSession(db: Knex, session: LiveSession & { keyHash: string }): Promise<void> {
  await Session.query(db).insert(session);
}

/** Deletes one session (nothing when it is gone already). */
export async function deleteSession(db: Knex, keyHash: string): Promise<void> {
  await Session.query(db).deleteById(keyHash);
}

/** Deletes every idle or old session, so that sessions nobody comes back to do not pile up. */
export async function pruneSessions(db: Knex, lifetime: SessionLifetime): Promise<void> {
  await Session.query(db)
    .whereRaw('last_used_at <= now() - make_interval(secs => ?)', [lifetime.idleSeconds])
    .orWhereRaw('created_at <= now() - make_interval(secs => ?)', [lifetime.maxAgeSeconds])
    .delete();
}

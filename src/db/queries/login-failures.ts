import type { Knex } from 'knex';

const TABLE = 'login_failures';

/** What failures are counted by: the SHA-256 of the user name, or the client address. */
export type FailureKey = { readonly usernameHash: string } | { readonly address: string };

/**
 * Records a password check about to run as a failure, before it runs, so that checks running at once count each
 * other; a check that succeeds forgets its row again (`forgetLoginAttempt`).
 * @returns the row's id.
 */
export async function recordLoginAttempt(db: Knex, usernameHash: string, address: string): Promise<string> {
  const [row] = await db(TABLE).insert({ usernameHash, address }).returning<Array<{ id: string }>>('id');
  if (!row) {
    throw new Error('The login attempt was not recorded');
  }
  return String(row.id);
}

/** Forgets a recorded attempt (it succeeded, or it was refused before it ran). */
export async function forgetLoginAttempt(db: Knex, id: string): Promise<void> {
  await db(TABLE).where({ id }).delete();
}

/**
 * Seconds until fewer than `limit` failures of `key` (other than attempt `exceptId`) are left within the window:
 * when the `limit`-th newest leaves it. 0 when there are fewer already.
 */
export async function secondsUntilBelowLimit(
  db: Knex,
  key: FailureKey,
  limit: number,
  windowSeconds: number,
  exceptId: string,
): Promise<number> {
  const row = await db(TABLE)
    .where(key)
    .whereNot({ id: exceptId })
    .whereRaw('failed_at > now() - make_interval(secs => ?)', [windowSeconds])
    .orderBy([
      { column: 'failedAt', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .offset(limit - 1)
    .first<{ wait: number } | undefined>(
      db.raw('ceil(extract(epoch FROM failed_at + make_interval(secs => ?) - now()))::int AS wait', [windowSeconds]),
    );
  return row ? Math.max(1, row.wait) : 0;
}

/** Deletes the failures that left the window, so the table holds only what is counted. */
export async function pruneLoginFailures(db: Knex, windowSeconds: number): Promise<void> {
  await db(TABLE).whereRaw('failed_at <= now() - make_interval(secs => ?)', [windowSeconds]).delete();
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { BlobLeases } from '../../storage/leased-blob-store';

/** Every digest a row refers to, one per row of `digest`. */
const REFERENCES = `
    SELECT weights_digest AS digest FROM model_versions
    UNION SELECT strategy_state_digest FROM model_versions WHERE strategy_state_digest IS NOT NULL
    UNION SELECT preprocessing_digest FROM models WHERE preprocessing_digest IS NOT NULL
    UNION SELECT swag_first_moment_digest FROM models WHERE swag_first_moment_digest IS NOT NULL
    UNION SELECT swag_second_moment_digest FROM models WHERE swag_second_moment_digest IS NOT NULL
    UNION SELECT blob_digest FROM uploads WHERE blob_digest IS NOT NULL
    UNION SELECT second_blob_digest FROM uploads WHERE second_blob_digest IS NOT NULL
    UNION SELECT blob_digest FROM datasets
`;

/** Every blob digest a row refers to: the sweep keeps exactly these. */
export async function listReferencedDigests(knex: Knex): Promise<Set<string>> {
  const result = await knex.raw<{ rows: Array<{ digest: string }> }>(REFERENCES);
  return new Set(result.rows.map((row) => row.digest));
}

/** How long a write's lease lasts: its row is committed long before. */
export const BLOB_LEASE_MS = 60 * 60 * 1000;

/** Holds the transaction-scoped lock of one digest: lease takers and the sweep's deletes of it go one at a time. */
async function lockDigest(trx: Knex.Transaction, digest: string): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [digest]);
}

/** Write leases kept in `blob_leases` (see `BlobLeases`). */
export function databaseLeases(knex: Knex, leaseMs: number = BLOB_LEASE_MS): BlobLeases {
  return {
    take: async (digest) => {
      await knex.transaction(async (trx) => {
        await lockDigest(trx, digest);
        await trx('blob_leases').insert({
          digest,
          holder: randomUUID(),
          expiresAt: new Date(Date.now() + leaseMs),
        });
      });
    },
  };
}

/**
 * Runs the sweep's `remove` of `digest` unless a write holds a lease on it at `now` or a row refers to it, with the
 * digest locked: a write of the same bytes waits for the delete and then stores them again, or leases the digest
 * first and the sweep keeps it.
 */
export async function removeUnlessClaimed(
  knex: Knex,
  digest: string,
  now: Date,
  remove: () => Promise<boolean>,
): Promise<boolean> {
  return await knex.transaction(async (trx) => {
    await lockDigest(trx, digest);
    const leased: unknown = await trx('blob_leases').where({ digest }).andWhere('expiresAt', '>', now).first();
    const referenced = await trx.raw<{ rows: unknown[] }>(
      `SELECT 1 FROM (${REFERENCES}) refs WHERE digest = ? LIMIT 1`,
      [digest],
    );
    if (leased !== undefined || referenced.rows.length > 0) {
      return false;
    }
    return await remove();
  });
}

/** Forgets leases that ended before `now`. */
export async function removeExpiredLeases(knex: Knex, now: Date): Promise<number> {
  return await knex('blob_leases').where('expiresAt', '<=', now).delete();
}

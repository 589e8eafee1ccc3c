import type { Config } from '../config';
import { listReferencedDigests, removeExpiredLeases, removeUnlessClaimed } from '../db/queries/blobs';
import type { Logger } from '../logger';
import { sweepBlobs } from '../storage/sweep';
import { connectDatabase, openBlobStore } from './infrastructure';

/** `roundhouse sweep`: removes blobs no row references (older than the configured grace period). */
export async function runSweep(config: Config, logger: Logger): Promise<void> {
  const knex = connectDatabase(config);
  try {
    const now = new Date();
    const result = await sweepBlobs(openBlobStore(config), () => listReferencedDigests(knex), {
      minAgeMs: config.blobs.sweepMinAgeMs,
      now,
      guard: (digest, remove) => removeUnlessClaimed(knex, digest, now, remove),
    });
    const expiredLeases = await removeExpiredLeases(knex, now);
    logger.info('swept blobs', {
      removed: result.removed.length,
      kept: result.kept,
      removedTemporaryFiles: result.removedTemporaryFiles,
      expiredLeases,
    });
  } finally {
    await knex.destroy();
  }
}

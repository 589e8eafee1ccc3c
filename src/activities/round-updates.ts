import type { Knex } from 'knex';
import { TrainingActivityErrorCode } from '../error-reasons';
import type { ClientUpdate } from '../aggregation/strategies/strategy';
import type { Upload } from '../db/models/upload';
import { findVersion } from '../db/queries/models';
import { findRoundUploads } from '../db/queries/training-runs';
import type { BlobStore } from '../storage/blob-store';
import type { UploadSubmission } from '../workflows/training/definitions';
import { permanentFailure } from './activity-failures';
import { heartbeatingBlob } from './heartbeat-stream';

/**
 * The engine's input for the updates the workflow accepted in one round: each one's bytes come from the blob its
 * upload row names (the API stores the local model's weights digest there, and it outlives a deleted local model),
 * weighted by the sample size the row was stored with.
 * @throws a non-retryable `upload_not_found` when an accepted update has no usable upload row.
 */
export async function loadRoundUpdates(
  deps: { knex: Knex; blobs: BlobStore },
  trainingId: string,
  round: number,
  accepted: readonly UploadSubmission[],
): Promise<(ClientUpdate & { digest: string })[]> {
  const { knex, blobs } = deps;
  const rows = await findRoundUploads(
    knex,
    trainingId,
    round,
    'update',
    accepted.map((update) => update.clientId),
  );
  const byClient = new Map(rows.map((row) => [row.clientId, row]));
  return await Promise.all(
    accepted.map(async (update) => {
      const row = byClient.get(update.clientId);
      const digest = row ? await weightsDigestOf(knex, row) : undefined;
      const sampleSize = row?.sampleSize ?? update.sampleSize;
      if (digest === undefined || sampleSize === undefined) {
        throw permanentFailure(
          TrainingActivityErrorCode.UPLOAD_NOT_FOUND,
          `No stored update of client ${update.clientId} for round ${round} of training ${trainingId}.`,
        );
      }
      return {
        clientId: update.clientId,
        sampleSize,
        digest,
        source: heartbeatingBlob(blobs, digest, `reading the update of ${update.clientId}`),
      };
    }),
  );
}

async function weightsDigestOf(knex: Knex, row: Upload): Promise<string | undefined> {
  if (row.blobDigest !== null) {
    return row.blobDigest;
  }
  return row.modelId === null ? undefined : (await findVersion(knex, row.modelId, row.round))?.weightsDigest;
}

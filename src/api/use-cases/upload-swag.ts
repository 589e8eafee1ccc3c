import { createReadStream } from 'node:fs';
import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import { insertUpload } from '../../db/queries/uploads';
import type { Logger } from '../../logger';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFiles } from '../routing/uploaded-files';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { TrainingState } from '../../training-states';
import { requireFile } from './checked-upload';
import { checkMomentFile } from './swag-moments';
import { claimSlot, contentDigest, submitToRun, uploadTarget } from './upload-slot';

/** SWAG moments' form fields: the round of the SWAG round and the sample size behind the moments. */
export interface SwagInput {
  readonly round: number;
  readonly sample_size: number;
}

/**
 * `POST /api/models/{id}/swag/`: a participant's SWAG moments for the SWAG round. Both files are checked against the
 * global model's manifest before they are stored; the slot (phase `swag`) keeps both digests and the sample size, and
 * goes to the run.
 */
export async function uploadSwag(
  deps: { knex: Knex; blobs: BlobStore; orchestrator: TrainingOrchestrator; logger: Logger },
  user: User,
  modelId: string,
  request: SwagInput,
  files: UploadedFiles,
): Promise<void> {
  const { knex, blobs } = deps;
  const first = requireFile(files, 'first_moment_file');
  const second = requireFile(files, 'second_moment_file');
  const { model, training } = await uploadTarget(knex, user, modelId, TrainingState.SWAG_ROUND, request.round);
  await checkMomentFile(first, 'first_moment_file', model.manifest ?? []);
  await checkMomentFile(second, 'second_moment_file', model.manifest ?? []);
  const firstRef = await blobs.put(createReadStream(first.path));
  const secondRef = await blobs.put(createReadStream(second.path));
  const slot = { trainingId: training.id, round: request.round, clientId: user.id, phase: 'swag' as const };
  const digest = contentDigest([firstRef.digest, secondRef.digest, request.sample_size]);
  const upload = await claimSlot(knex, slot, digest, () =>
    insertUpload(knex, slot, {
      contentDigest: digest,
      modelId: null,
      blobDigest: firstRef.digest,
      secondBlobDigest: secondRef.digest,
      sampleSize: request.sample_size,
    }),
  );
  await submitToRun(deps, training, upload);
}

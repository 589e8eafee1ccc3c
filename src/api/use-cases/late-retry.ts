import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import { findModelById } from '../../db/queries/models';
import { findTrainingOfModel } from '../../db/queries/trainings';
import { findUpload } from '../../db/queries/uploads';
import type { UploadedFile } from '../routing/uploaded-files';
import { TrainingState } from '../../training-states';
import { contentDigest } from './upload-slot';
import type { UpdateInput } from './upload-update';

async function fileDigest(file: UploadedFile): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file.path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * True when this request repeats an update that already fills its slot, but the training has moved on since (the
 * round was aggregated, or the training finished). That happens when a client got a 503 while no worker ran, the
 * workflow took the stored upload once a worker was back, and the client's retry arrives after the round closed:
 * the retry must answer as the first upload did, not as a stale one.
 */
export async function isLateExactRetry(
  knex: Knex,
  user: User,
  modelId: string,
  request: UpdateInput,
  file: UploadedFile,
): Promise<boolean> {
  const [model, training] = await Promise.all([findModelById(knex, modelId), findTrainingOfModel(knex, modelId)]);
  if (!model || !training || (training.state === TrainingState.ONGOING && model.round === request.round)) {
    return false;
  }
  const existing = await findUpload(knex, {
    trainingId: training.id,
    round: request.round,
    clientId: user.id,
    phase: 'update',
  });
  if (!existing) {
    return false;
  }
  const digest = contentDigest([
    await fileDigest(file),
    request.sample_size,
    request.metric_names,
    request.metric_values,
  ]);
  return existing.contentDigest === digest;
}

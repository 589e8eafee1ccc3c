import type { Knex } from 'knex';
import { scanModel } from '../../onnx/scan';
import { FlModel } from '../../db/models/model';
import type { User } from '../../db/models/user';
import { insertMetrics } from '../../db/queries/metrics';
import { findVersion, insertVersion } from '../../db/queries/models';
import { insertUpload } from '../../db/queries/uploads';
import { conflict } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { UpdateRequest } from '../routes/models/upload-schemas';
import type { UploadedFiles } from '../routing/uploaded-files';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { checkAndStoreModel, manifestOf, requireFile } from './checked-upload';
import { isLateExactRetry } from './late-retry';
import { pairMetrics } from './metric-input';
import { contentDigest, existingUpload, fillSlot, uploadTarget } from './upload-slot';

/**
 * E19: a participant's local update for the current round. Everything is checked before anything is written (the
 * reference kept the update when its metrics were refused); then the update's model row, its weights version, its
 * metrics and the filled slot are written in one transaction, and the slot is handed to the training's run.
 */
export async function uploadUpdate(
  deps: { knex: Knex; blobs: BlobStore; orchestrator: TrainingOrchestrator },
  user: User,
  modelId: string,
  request: UpdateRequest,
  files: UploadedFiles,
): Promise<void> {
  const { knex, blobs, orchestrator } = deps;
  const metrics = pairMetrics(request.metric_names, request.metric_values, false);
  const file = requireFile(files, 'model_file');
  const target = await uploadTarget(knex, user, modelId, 'O', request.round).catch(async (err: unknown) => {
    // Only a refused upload pays for this check: a retry of a stored update after its round closed answers 201.
    if (await isLateExactRetry(knex, user, modelId, request, file)) {
      return undefined;
    }
    throw err;
  });
  if (!target) {
    return;
  }
  const { model, training } = target;
  const globalVersion = await findVersion(knex, model.id, model.round);
  if (!globalVersion) {
    throw conflict(`Model ${model.id} has no weights for round ${model.round}.`);
  }
  const global = await scanModel(await blobs.read(globalVersion.weightsDigest));
  const checked = await checkAndStoreModel(blobs, file, 'model file', global);
  const slot = { trainingId: training.id, round: request.round, clientId: user.id, phase: 'update' as const };
  const digest = contentDigest([
    checked.weights.digest,
    request.sample_size,
    request.metric_names,
    request.metric_values,
  ]);
  const upload =
    (await existingUpload(knex, slot, digest)) ??
    (await fillSlot(knex, slot, digest, () =>
      knex.transaction(async (trx) => {
        const local = await FlModel.query(trx).insert({
          type: 'LOCAL',
          ownerId: user.id,
          baseModelId: model.id,
          round: request.round,
          sampleSize: request.sample_size,
          manifest: manifestOf(checked.summary),
          graphDigest: checked.summary.graphDigest,
        });
        await insertVersion(trx, local.id, request.round, checked.weights);
        const upload = await insertUpload(trx, slot, {
          contentDigest: digest,
          modelId: local.id,
          blobDigest: checked.weights.digest,
          secondBlobDigest: null,
          sampleSize: request.sample_size,
        });
        const target = { modelId: local.id, trainingId: training.id, step: request.round, reporterId: user.id };
        await insertMetrics(trx, { ...target, uploadId: upload.id }, metrics);
        return upload;
      }),
    ));
  await orchestrator.submitUpload(training, upload);
}

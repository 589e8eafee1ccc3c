import type { Knex } from 'knex';
import { scanModel } from '../../models/scan';
import type { ModelSummary } from '../../onnx/summary';
import type { FlModel } from '../../db/models/model';
import type { User } from '../../db/models/user';
import { findVersion } from '../../db/queries/models';
import { insertUpdateUpload } from '../../db/queries/uploads';
import { conflict } from '../../errors';
import type { Logger } from '../../logger';
import type { BlobStore } from '../../storage/blob-store';
import { TrainingState } from '../../training-states';
import type { UploadedFile, UploadedFiles } from '../routing/uploaded-files';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { checkAndStoreModel, formatOf, manifestOf, requireFile, type UpdateBase } from './checked-upload';
import { isLateExactRetry } from './late-retry';
import { type MetricValueInput, pairMetrics, refuseMetricFiles } from './metric-input';
import { claimSlot, contentDigest, submitToRun, type UploadTarget, uploadTarget } from './upload-slot';

/** A local update as a participant sends it: the round it was trained in, its sample size, optional metrics. */
export interface UpdateInput {
  readonly round: number;
  readonly sample_size: number;
  readonly metric_names?: readonly string[];
  readonly metric_values?: readonly MetricValueInput[];
}

/**
 * `POST /api/models/{id}/`: a participant's local update for the current round. Everything is checked before anything
 * is written (the reference kept the update when its metrics were refused); then the update's model row, its weights
 * version, its metrics and the filled slot are written in one transaction, and the slot is handed to the training's
 * run.
 */
export async function uploadUpdate(
  deps: { knex: Knex; blobs: BlobStore; orchestrator: TrainingOrchestrator; logger: Logger; maxMetricBytes: number },
  user: User,
  modelId: string,
  request: UpdateInput,
  files: UploadedFiles,
): Promise<void> {
  const { knex, blobs } = deps;
  refuseMetricFiles(files);
  const metrics = pairMetrics(request.metric_names, request.metric_values, {
    required: false,
    maxValueBytes: deps.maxMetricBytes,
  });
  const file = requireFile(files, 'model_file');
  const target = await updateTarget(knex, user, modelId, request, file);
  if (!target) {
    return;
  }
  const checked = await checkAndStoreModel(blobs, file, 'model file', { global: await globalBase(deps, target.model) });
  const slot = { trainingId: target.training.id, round: request.round, clientId: user.id, phase: 'update' as const };
  // The file as sent, so a retry is known for the same request: a PyTorch update is stored rewritten (other bytes).
  const digest = contentDigest([checked.sentDigest, request.sample_size, request.metric_names, request.metric_values]);
  const upload = await claimSlot(knex, slot, digest, () =>
    insertUpdateUpload(
      knex,
      slot,
      digest,
      {
        baseModelId: target.model.id,
        ownerId: user.id,
        sampleSize: request.sample_size,
        manifest: manifestOf(checked.summary),
        graphDigest: checked.summary.graphDigest,
        format: formatOf(checked.summary),
        weights: checked.weights,
      },
      metrics,
    ),
  );
  await submitToRun(deps, target.training, upload);
}

/**
 * The global model and training the update is for; undefined when the request repeats an update already stored
 * whose round has closed since (it is answered as the first time). Only a refused upload pays for that check.
 */
async function updateTarget(
  knex: Knex,
  user: User,
  modelId: string,
  request: UpdateInput,
  file: UploadedFile,
): Promise<UploadTarget | undefined> {
  try {
    return await uploadTarget(knex, user, modelId, TrainingState.ONGOING, request.round);
  } catch (err) {
    if (await isLateExactRetry(knex, user, modelId, request, file)) {
      return undefined;
    }
    throw err;
  }
}

/**
 * Scans of global models by weights digest: every participant's upload in a round checks against the same global
 * model, which is read and scanned once, not once per upload (a blob's bytes never change under its digest).
 */
const globalScans = new Map<string, Promise<ModelSummary>>();
const GLOBAL_SCANS_KEPT = 16;

/** The global model's current weights, scanned: an update must match their structure. */
async function globalBase(deps: { knex: Knex; blobs: BlobStore }, model: FlModel): Promise<UpdateBase> {
  const version = await findVersion(deps.knex, model.id, model.round);
  if (!version) {
    throw conflict(`Model ${model.id} has no weights for round ${model.round}.`);
  }
  const digest = version.weightsDigest;
  const source = () => deps.blobs.read(digest);
  let scan = globalScans.get(digest);
  if (scan) {
    // Most recently used last.
    globalScans.delete(digest);
  } else {
    scan = source().then((chunks) => scanModel(chunks));
    // A failed read is not kept: the next upload reads again.
    scan.catch(() => globalScans.delete(digest));
  }
  globalScans.set(digest, scan);
  while (globalScans.size > GLOBAL_SCANS_KEPT) {
    globalScans.delete(globalScans.keys().next().value as string);
  }
  return { summary: await scan, source };
}

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Training } from '../../db/models/training';
import type { Upload } from '../../db/models/upload';
import type { User } from '../../db/models/user';
import { findModelById } from '../../db/queries/models';
import { findTrainingOfModelFor } from '../../db/queries/trainings';
import { completeTask } from '../../db/queries/tasks';
import { findUpload, type Slot } from '../../db/queries/uploads';
import { conflict, invalidInput, notFound } from '../../errors';
import type { FlModel } from '../../db/models/model';
import { isUniqueViolation } from '../../db/constraint-errors';
import type { Logger } from '../../logger';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { forbidden } from '../../errors';

/** The global model and training an upload is for, once the caller, the state and the round were checked. */
export interface UploadTarget {
  readonly model: FlModel;
  readonly training: Training;
}

/**
 * The reference's checks of `POST /api/models/{id}/` and `POST /api/models/{id}/swag/`, in its order: the model is a
 * global model with a training, the caller is a participant, the training is in `state`, and `round` is the model's
 * current round.
 */
export async function uploadTarget(
  knex: Knex,
  user: User,
  modelId: string,
  state: string,
  round: number,
): Promise<UploadTarget> {
  const model = await findModelById(knex, modelId);
  if (!model || model.type === 'LOCAL') {
    throw notFound(`GlobalModel ${modelId} not found.`);
  }
  const found = await findTrainingOfModelFor(knex, model.id, user.id);
  if (!found) {
    throw notFound(`Model with ID ${model.id} does not have a training process running`);
  }
  const { training } = found;
  if (!found.participant) {
    throw forbidden(`You are not a participant of training ${training.id}!`);
  }
  if (training.state !== state) {
    throw invalidInput(`Training with ID ${training.id} is in state ${training.state}`);
  }
  if (round !== model.round) {
    throw invalidInput(`Training with ID ${training.id} is not currently in round ${model.round}`);
  }
  return { model, training };
}

/** SHA-256 over the parts that make an upload what it is (digests, sample size, metrics). */
export function contentDigest(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * The slot's existing upload when it holds exactly this content (a retry: answer as the first time), undefined when
 * the slot is free. @throws 409 when the slot holds something else.
 */
export async function existingUpload(knex: Knex, slot: Slot, digest: string): Promise<Upload | undefined> {
  const existing = await findUpload(knex, slot);
  if (existing && existing.contentDigest !== digest) {
    throw conflict(
      `Round ${slot.round} of training ${slot.trainingId} already has a different ${slot.phase} upload from this client.`,
    );
  }
  return existing;
}

/**
 * The slot's upload for this content: the one already there (an exact retry, answered as the first time) or the one
 * `insert` writes now. @throws 409 when the slot holds a different upload.
 */
export async function claimSlot(
  knex: Knex,
  slot: Slot,
  digest: string,
  insert: () => Promise<Upload>,
): Promise<Upload> {
  return (await existingUpload(knex, slot, digest)) ?? (await fillSlot(knex, slot, digest, insert));
}

/** Runs `insert`; when a concurrent upload filled the slot first, answers as `existingUpload` does. */
export async function fillSlot(knex: Knex, slot: Slot, digest: string, insert: () => Promise<Upload>): Promise<Upload> {
  try {
    return await insert();
  } catch (err) {
    if (!isUniqueViolation(err)) {
      throw err;
    }
    const winner = await existingUpload(knex, slot, digest);
    if (!winner) {
      throw err;
    }
    return winner;
  }
}

/**
 * Hands a filled slot to the training's run, marks the task that asked for it done (so a pulling client no longer
 * sees it), and logs it under the training and the client it came from (a retry of a stored upload is handed over,
 * and logged, again: the run answers it as the first time).
 */
export async function submitToRun(
  deps: { knex: Knex; orchestrator: TrainingOrchestrator; logger: Logger },
  training: Training,
  upload: Upload,
): Promise<void> {
  await deps.orchestrator.submitUpload(training, upload);
  await completeTask(
    deps.knex,
    { trainingId: training.id, receiverId: upload.clientId, round: upload.round, phase: upload.phase },
    'uploaded',
  );
  deps.logger
    .child({ trainingId: training.id, clientId: upload.clientId })
    .info('upload submitted', { round: upload.round, phase: upload.phase });
}

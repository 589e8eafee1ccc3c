import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import { deleteModel, listEnsemblesOf, setPreprocessing } from '../../db/queries/models';
import { conflict, notFound } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFiles } from '../routing/uploaded-files';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { forbidden } from '../../errors';
import { checkAndStoreModel, requireFile } from './checked-upload';
import { accessModel } from './model-access';

/**
 * `DELETE /api/models/{id}/`: the model's owner or its training's actor deletes it. A global model takes its training
 * along (its run is cancelled first); an update leaves the global model and the training alone.
 */
export async function removeModel(
  knex: Knex,
  orchestrator: TrainingOrchestrator,
  user: User,
  id: string,
): Promise<void> {
  const { model, training, relations } = await accessModel(knex, user, id);
  if (!relations.has('owner') && !relations.has('actor')) {
    throw forbidden('You are neither the owner of the model nor the actor of the corresponding training.');
  }
  const ensembles = await listEnsemblesOf(knex, model.id);
  if (ensembles.length > 0) {
    throw conflict(`Model ${model.id} is a member of MEAN model ${ensembles.join(', ')}; delete that first.`);
  }
  if (training && model.type !== 'LOCAL') {
    await orchestrator.cancel(training);
  }
  await deleteModel(knex, model.id);
}

/**
 * `POST /api/models/{id}/preprocessing/`: the owner of a global model sets its ONNX preprocessing graph (checked like a
 * model, then stored).
 */
export async function replacePreprocessing(
  knex: Knex,
  blobs: BlobStore,
  user: User,
  id: string,
  files: UploadedFiles,
): Promise<void> {
  const { model, relations } = await accessModel(knex, user, id);
  if (model.type === 'LOCAL' || relations.size === 0) {
    throw notFound(`GlobalModel ${id} not found.`);
  }
  if (!relations.has('owner')) {
    throw forbidden(`You are not the owner of model ${id}!`);
  }
  const file = requireFile(files, 'model_preprocessing_file');
  const checked = await checkAndStoreModel(blobs, file, 'preprocessing file', { onnxOnly: true });
  await setPreprocessing(knex, model.id, checked.weights.digest);
}

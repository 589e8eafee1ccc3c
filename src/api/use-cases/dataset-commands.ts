import { readFile } from 'node:fs/promises';
import type { Knex } from 'knex';
import type { Dataset } from '../../db/models/dataset';
import type { User } from '../../db/models/user';
import { deleteUnusedDataset, insertDataset } from '../../db/queries/datasets';
import { type DatasetTensors, checkDatasetTensors, datasetFileParts } from '../../datasets/dataset-tensors';
import { datasetFromNpy, datasetFromSafetensors } from '../../datasets/dataset-files';
import { conflict, datasetRefusal, payloadTooLarge } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFile, UploadedFiles } from '../routing/uploaded-files';
import { ownedDataset } from './dataset-access';

/** A new dataset's form fields. */
export interface NewDatasetInput {
  readonly name: string;
  readonly description: string;
  readonly share_with_participants: boolean;
}

/** The file fields a dataset upload takes: `file` alone, or `x` and `y`. */
const FILE_FIELDS = ['file', 'x', 'y'];
const HOW = "send either 'file' (a safetensors file with tensors x and y) or 'x' and 'y' (two .npy files)";

/**
 * `POST /api/datasets/`: checks the uploaded files in full (sizes, format, dtypes, shapes, rows, finite values), then
 * stores them as one safetensors blob and inserts the row; a refused upload stores nothing.
 * @param maxBytes the largest upload, its files together (413 beyond).
 */
export async function createDataset(
  deps: { knex: Knex; blobs: BlobStore; maxBytes: number },
  user: User,
  request: NewDatasetInput,
  files: UploadedFiles,
): Promise<Dataset> {
  const tensors = await readUpload(files, deps.maxBytes);
  checkDatasetTensors(tensors);
  const { digest } = await deps.blobs.put(streamOf(datasetFileParts(tensors)));
  return await insertDataset(deps.knex, {
    ownerId: user.id,
    name: request.name,
    description: request.description,
    rows: tensors.x.shape[0] ?? 0,
    xDtype: tensors.x.dtype,
    xShape: [...tensors.x.shape],
    yDtype: tensors.y.dtype,
    yShape: [...tensors.y.shape],
    shareWithParticipants: request.share_with_participants,
    blobDigest: digest,
  });
}

/**
 * `DELETE /api/datasets/{id}/`: its owner deletes it unless a training that has not finished names it; the blob is
 * left to the sweep, like every unreferenced blob.
 * @throws 409 naming the trainings that still use it.
 */
export async function removeDataset(knex: Knex, user: User, id: number): Promise<void> {
  await ownedDataset(knex, user, id);
  const users = await deleteUnusedDataset(knex, id);
  if (users.length > 0) {
    throw conflict(
      `Dataset ${id} is the evaluation dataset of training ${users.join(', ')}, which has not finished: ` +
        'delete it once that training is completed, failed or deleted.',
    );
  }
}

async function readUpload(files: UploadedFiles, maxBytes: number): Promise<DatasetTensors> {
  for (const [field, sent] of files) {
    if (!FILE_FIELDS.includes(field)) {
      throw datasetRefusal('dataset_files', `Unknown file field '${field}': ${HOW}.`);
    }
    if (sent.length > 1) {
      throw datasetRefusal('dataset_files', `File field '${field}' was sent ${sent.length} times: ${HOW}.`);
    }
  }
  const [file, x, y] = ['file', 'x', 'y'].map((field) => files.get(field)?.[0]);
  if (file && !x && !y) {
    checkSize([file], maxBytes);
    return datasetFromSafetensors(await readFile(file.path));
  }
  if (!file && x && y) {
    checkSize([x, y], maxBytes);
    return datasetFromNpy(await readFile(x.path), await readFile(y.path));
  }
  // In a fixed order, not the order the parser finished writing the parts (which varies from run to run).
  const sent =
    FILE_FIELDS.filter((field) => files.has(field))
      .map((field) => `'${field}'`)
      .join(', ') || 'no file';
  throw datasetRefusal('dataset_files', `The upload has ${sent}: ${HOW}.`);
}

function checkSize(parts: readonly UploadedFile[], maxBytes: number): void {
  if (parts.reduce((sum, part) => sum + part.size, 0) > maxBytes) {
    throw payloadTooLarge(maxBytes, 'Dataset');
  }
}

async function* streamOf(parts: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const part of parts) {
    yield await Promise.resolve(part);
  }
}

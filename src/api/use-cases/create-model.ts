import type { Knex } from 'knex';
import type { FlModel } from '../../db/models/model';
import type { User } from '../../db/models/user';
import { findModelsByIds, insertGlobalModel } from '../../db/queries/models';
import { invalidInput } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFiles } from '../routing/uploaded-files';
import { checkModelFile, formatOf, manifestOf, optionalFile, requireFile } from './checked-upload';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A new model's form fields: its kind, description, starting round, input shape, and a MEAN model's members. */
export interface NewModelInput {
  readonly name: string;
  readonly description: string;
  readonly type: 'GLOBAL' | 'SWAG' | 'MEAN';
  readonly round: number;
  readonly input_shape?: Array<number | null> | null;
  readonly models?: readonly string[];
}

/**
 * `POST /api/models/`: a GLOBAL or SWAG model from an ONNX file (checked by the engine, then stored) with an optional
 * ONNX preprocessing graph, or a MEAN model of global models the caller owns. The row and its round's version are
 * written in one transaction after every check passed.
 */
export async function createModel(
  knex: Knex,
  blobs: BlobStore,
  user: User,
  request: NewModelInput,
  files: UploadedFiles,
): Promise<FlModel> {
  const base = {
    type: request.type,
    ownerId: user.id,
    name: request.name,
    description: request.description,
    round: request.round,
    inputShape: request.input_shape ?? null,
  };
  if (request.type === 'MEAN') {
    const memberIds = await checkMembers(knex, user, request.models);
    return await insertGlobalModel(
      knex,
      { ...base, preprocessingDigest: null, manifest: null, graphDigest: null, format: 'onnx' },
      undefined,
      memberIds,
    );
  }
  const modelFile = requireFile(files, 'model_file');
  const preprocessingFile = optionalFile(files, 'model_preprocessing_file');
  // Both files are checked before either is stored: a refused preprocessing file leaves no model blob behind.
  const checkedModel = await checkModelFile(blobs, modelFile, 'model file');
  const checkedPreprocessing = preprocessingFile
    ? await checkModelFile(blobs, preprocessingFile, 'preprocessing file', { onnxOnly: true })
    : undefined;
  const model = await checkedModel.store();
  const preprocessing = await checkedPreprocessing?.store();
  return await insertGlobalModel(
    knex,
    {
      ...base,
      preprocessingDigest: preprocessing?.weights.digest ?? null,
      manifest: manifestOf(model.summary),
      graphDigest: model.summary.graphDigest,
      format: formatOf(model.summary),
    },
    model.weights,
  );
}

async function checkMembers(knex: Knex, user: User, ids: readonly string[] | undefined): Promise<string[]> {
  if (ids === undefined) {
    throw invalidInput('Missing required field: models');
  }
  if (ids.length === 0 || !ids.every((id) => UUID.test(id))) {
    throw invalidInput('Invalid model UUIDs found.');
  }
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
  const found = await findModelsByIds(knex, unique);
  if (found.length !== unique.length) {
    throw invalidInput('Invalid model UUIDs found.');
  }
  if (found.some((model) => model.ownerId !== user.id || model.type === 'LOCAL')) {
    throw invalidInput('Invalid model selection. Insufficient model permissions.');
  }
  return unique;
}

import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import { findVersion } from '../../db/queries/models';
import { notFound } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { InferenceModels } from './inference-model';

/** A model's bytes as a download answers them: a stream of the stored blob, and its size. */
export interface ModelDownload {
  readonly modelId: string;
  readonly body: Readable | Buffer;
  readonly length: number;
}

/**
 * The bytes of a model the caller may read: the version of `round`, or the latest one. Who may read it comes from the
 * model cache (as inference's, within its staleness bound); the version is always read from Postgres, since a client
 * told of a new round downloads at once and must never get the round before. A MEAN model has no weights of its own
 * and answers no bytes, as the reference does.
 * @throws 404 for a missing or hidden model, or a round it does not have; 403 as `InferenceModels.readable`.
 */
export async function downloadModel(
  deps: { knex: Knex; blobs: BlobStore; inferenceModels: InferenceModels },
  user: User,
  modelId: string,
  round?: number,
): Promise<ModelDownload> {
  const { model } = await deps.inferenceModels.readable(user, modelId, notFound);
  const version = await findVersion(deps.knex, model.id, round);
  if (!version) {
    if (round !== undefined) {
      throw notFound(`Model ${model.id} has no round ${round}.`);
    }
    return { modelId: model.id, body: Buffer.alloc(0), length: 0 };
  }
  return { modelId: model.id, body: await deps.blobs.read(version.weightsDigest), length: Number(version.weightsSize) };
}

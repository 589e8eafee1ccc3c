import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { aggregate } from '../../src/aggregation/aggregate';
import { collectBytes, fileSource } from '../../src/onnx/model-source';
import { FlModel } from '../../src/db/models/model';
import type { Training } from '../../src/db/models/training';
import type { Upload } from '../../src/db/models/upload';
import type { User } from '../../src/db/models/user';
import { insertVersion } from '../../src/db/queries/models';
import { addParticipants } from '../../src/db/queries/trainings';
import { insertUpload } from '../../src/db/queries/uploads';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { fixture } from '../unit/aggregation/helpers/fixtures';

/** The three MLP clients of the shared fixtures, with their sample sizes (README.json). */
export const MLP_CLIENTS = [
  { file: 'mlp-client-a.onnx', sampleSize: 3000 },
  { file: 'mlp-client-b.onnx', sampleSize: 2000 },
  { file: 'mlp-client-c.onnx', sampleSize: 1000 },
] as const;

/** A blob store in a temporary folder of its own; `remove` deletes the folder. */
export async function tempBlobStore(): Promise<{ blobs: FsBlobStore; remove(): Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-training-activities-'));
  return { blobs: new FsBlobStore(root), remove: () => fs.rm(root, { recursive: true, force: true }) };
}

/** A training of the MLP global model (round 0 in the blob store) with three clients that have no endpoint. */
export interface SeededTraining {
  actor: User;
  clients: User[];
  model: FlModel;
  training: Training;
}

/** Seeds an ONGOING training on the MLP fixture; `overrides` set its method, options or target. */
export async function seedMlpTraining(
  knex: Knex,
  blobs: FsBlobStore,
  overrides: Partial<Training> = {},
): Promise<SeededTraining> {
  const actor = await buildUser(knex, { actor: true });
  const clients = await Promise.all(MLP_CLIENTS.map(() => buildUser(knex, { client: true })));
  const global = await blobs.put(await fs.readFile(fixture('mlp-global-r0.onnx')));
  const model = await buildGlobalModel(knex, actor.id, global.digest);
  const training = await buildTraining(knex, actor.id, model.id, { state: 'O', ...overrides });
  await addParticipants(
    knex,
    training.id,
    clients.map((client) => client.id),
  );
  return { actor, clients, model, training };
}

/**
 * Stores a client's update as `uploadUpdate` does: the bytes in the blob store, then in one transaction the local
 * model row, its version and the filled slot with the weights digest and sample size.
 */
export async function storeUpdate(
  knex: Knex,
  blobs: FsBlobStore,
  seeded: SeededTraining,
  client: User,
  round: number,
  index: number,
): Promise<Upload> {
  const { file, sampleSize } = MLP_CLIENTS[index] ?? MLP_CLIENTS[0];
  const weights = await blobs.put(await fs.readFile(fixture(file)));
  return await knex.transaction(async (trx) => {
    const local = await FlModel.query(trx).insert({
      type: 'LOCAL',
      ownerId: client.id,
      baseModelId: seeded.model.id,
      round,
      sampleSize,
    });
    await insertVersion(trx, local.id, round, weights);
    const slot = { trainingId: seeded.training.id, round, clientId: client.id, phase: 'update' as const };
    const contentDigest = createHash('sha256')
      .update(JSON.stringify([weights.digest, sampleSize]))
      .digest('hex');
    return await insertUpload(trx, slot, {
      contentDigest,
      modelId: local.id,
      blobDigest: weights.digest,
      secondBlobDigest: null,
      sampleSize,
    });
  });
}

/** The engine's own aggregate of the MLP fixtures for these client ids (as `roundhouse aggregate` computes it). */
export async function engineAggregate(method: string, clientIds: readonly string[]): Promise<Buffer> {
  const result = await aggregate({
    method,
    global: fileSource(fixture('mlp-global-r0.onnx')),
    updates: clientIds.map((clientId, index) => ({
      clientId,
      sampleSize: MLP_CLIENTS[index]?.sampleSize ?? 1,
      source: fileSource(fixture(MLP_CLIENTS[index]?.file ?? 'missing.onnx')),
    })),
  });
  return Buffer.from(await collectBytes(result.model));
}

/** SHA-256 of bytes, as the blob store names them. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

import { heartbeat } from '@temporalio/activity';
import type { Knex } from 'knex';
import { TrainingActivityErrorCode } from '../error-reasons';
import { collectBytes } from '../onnx/model-source';
import { type Float32Tensor, readSafetensors, writeSafetensors } from '../aggregation/safetensors';
import type { ManifestEntry } from '../db/models/model';
import { findModelById } from '../db/queries/models';
import { findRoundUploads, recordSwagMoments } from '../db/queries/training-runs';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import { asActivityFailure, permanentFailure, trainingNotFound } from './activity-failures';
import { requireTraining } from './stored-training';
import type { AggregateSwagInput, AggregateSwagResult } from './training-activity-types';

/** Names the layout of a stored SWAG moment file, in its safetensors metadata. */
export const SWAG_MOMENT_FORMAT = 'roundhouse.swag-moment.v1';

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'float64', 'bfloat16']);

/**
 * Stores the SWAG round's result (docs/training.md#the-swag-round): the sample-size-weighted means Σ (nᵢ/Σn)·mᵢ of the accepted
 * first and second moments, accumulated in float64 one client at a time (memory: two float64 copies of the model
 * plus one client's files), written as float32 safetensors keyed by initializer name in manifest order. The model
 * row then names both blobs and becomes a SWAG model. A retry computes the same bytes and writes the same row.
 * @throws non-retryable failures for a missing training, upload row or blob, or moments that do not fit the model.
 */
export async function aggregateSwag(
  deps: { knex: Knex; blobs: BlobStore; logger: Logger },
  input: AggregateSwagInput,
): Promise<AggregateSwagResult> {
  const { knex, blobs, logger } = deps;
  const training = await requireTraining(knex, input.trainingId);
  const model = await findModelById(knex, training.modelId);
  if (!model) {
    throw trainingNotFound(input.trainingId);
  }
  const clientIds = input.uploads.map((upload) => upload.clientId);
  const rows = new Map(
    (await findRoundUploads(knex, training.id, input.round, 'swag', clientIds)).map((row) => [row.clientId, row]),
  );
  const floats = (model.manifest ?? []).filter((entry) => FLOAT_DTYPES.has(entry.dtype));
  const first = new MomentSum(floats);
  const second = new MomentSum(floats);
  const total = input.uploads.reduce((sum, upload) => sum + (rows.get(upload.clientId)?.sampleSize ?? 0), 0);
  try {
    for (const clientId of clientIds) {
      const row = rows.get(clientId);
      if (!row || row.blobDigest === null || row.secondBlobDigest === null || row.sampleSize === null) {
        throw permanentFailure(
          TrainingActivityErrorCode.UPLOAD_NOT_FOUND,
          `No stored SWAG moments of client ${clientId} for round ${input.round} of training ${training.id}.`,
        );
      }
      const weight = row.sampleSize / total;
      first.add(clientId, await readMoment(blobs, row.blobDigest), weight);
      second.add(clientId, await readMoment(blobs, row.secondBlobDigest), weight);
      heartbeat(`averaged the SWAG moments of ${clientId}`);
    }
    const metadata = { format: SWAG_MOMENT_FORMAT, round: String(input.round), clients: String(clientIds.length) };
    const firstRef = await blobs.put(first.toSafetensors({ ...metadata, moment: 'first' }));
    const secondRef = await blobs.put(second.toSafetensors({ ...metadata, moment: 'second' }));
    await recordSwagMoments(knex, model.id, firstRef.digest, secondRef.digest);
    logger.info('SWAG moments stored', { round: input.round, clients: clientIds, total });
    return { firstMomentDigest: firstRef.digest, secondMomentDigest: secondRef.digest };
  } catch (err) {
    throw asActivityFailure(err);
  }
}

async function readMoment(blobs: BlobStore, digest: string): Promise<Map<string, Float32Tensor>> {
  return readSafetensors(await collectBytes(await blobs.read(digest))).tensors;
}

/** A float64 running sum of one moment over the clients, per float initializer. */
class MomentSum {
  private readonly sums: Map<string, Float64Array>;

  constructor(private readonly manifest: readonly ManifestEntry[]) {
    this.sums = new Map(
      manifest.map((entry) => [entry.name, new Float64Array(entry.shape.reduce((a, b) => a * b, 1))]),
    );
  }

  /** Adds `weight` × a client's moment; the API checked its tensors against the manifest, this checks again. */
  add(clientId: string, tensors: ReadonlyMap<string, Float32Tensor>, weight: number): void {
    for (const [name, sum] of this.sums) {
      const values = tensors.get(name)?.values;
      if (!values || values.length !== sum.length) {
        throw permanentFailure(
          'swag_moment_mismatch',
          `The SWAG moments of client ${clientId} do not hold initializer "${name}" with ${sum.length} values.`,
        );
      }
      for (let i = 0; i < sum.length; i++) {
        sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
      }
    }
  }

  toSafetensors(metadata: Record<string, string>): Uint8Array {
    const tensors = new Map<string, Float32Tensor>(
      this.manifest.map((entry) => [
        entry.name,
        { shape: entry.shape, values: Float32Array.from(this.sums.get(entry.name) ?? []) },
      ]),
    );
    return writeSafetensors(tensors, metadata);
  }
}

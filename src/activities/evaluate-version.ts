import { heartbeat } from '@temporalio/activity';
import type { Knex } from 'knex';
import * as ort from 'onnxruntime-node';
import { findDatasetById } from '../db/queries/datasets';
import { type EvaluationTarget, recordEvaluation, recordEvaluationFailure } from '../db/queries/evaluations';
import { findVersion } from '../db/queries/models';
import { type DatasetReader, openDataset } from '../datasets/reader';
import { EvaluationSums, targetKind } from '../evaluation/figures';
import type { Logger } from '../logger';
import { collectBytes } from '../onnx/model-source';
import { downService } from '../outages';
import type { BlobStore } from '../storage/blob-store';
import { requireTraining } from './stored-training';
import type { EvaluateVersionInput, EvaluationOutcome } from './training-activity-types';

/** The most input bytes one batch feeds the model (float32): a batch of MNIST digits is 2,671 rows. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** The most rows one batch has, whatever their size. */
const MAX_BATCH_ROWS = 1024;

/** Why a version cannot be evaluated: recorded as the reason its round has no figures, never retried. */
export class CannotEvaluate extends Error {}

/**
 * The server's evaluation of one version (docs/training.md#server-evaluation): the training's evaluation dataset
 * through the version with onnxruntime, batch by batch (memory: one batch), heartbeating after each; the figures
 * replace any an earlier try stored. What cannot be evaluated (the dataset or its file gone, a model that does not
 * take the rows, labels that are not its classes) is recorded and answered, not thrown: the training goes on. Only
 * an outage of the database or the blob store is thrown, so Temporal retries it.
 */
export async function evaluateVersion(
  deps: { knex: Knex; blobs: BlobStore; logger: Logger },
  input: EvaluateVersionInput,
): Promise<EvaluationOutcome> {
  const { knex } = deps;
  const training = await requireTraining(knex, input.trainingId);
  const target: EvaluationTarget = { trainingId: training.id, modelId: training.modelId, round: input.round };
  const started = Date.now();
  try {
    const { figures, rows } = await evaluate(deps, target, training.options.evaluation_dataset);
    await recordEvaluation(knex, target, figures, { rows, durationMs: Date.now() - started });
    deps.logger.info('version evaluated', { trainingId: training.id, round: input.round, rows, ...figures });
    return { round: input.round, figures, rows };
  } catch (err) {
    if (downService(err)) {
      throw err;
    }
    const error = err instanceof CannotEvaluate ? err.message : `the evaluation failed: ${messageOf(err)}`;
    await recordEvaluationFailure(knex, target, error);
    deps.logger.warn('version not evaluated', { trainingId: training.id, round: input.round, error });
    return { round: input.round, error };
  }
}

async function evaluate(
  deps: { knex: Knex; blobs: BlobStore },
  target: EvaluationTarget,
  datasetId: unknown,
): Promise<{ figures: Record<string, number>; rows: number }> {
  if (typeof datasetId !== 'number') {
    throw new CannotEvaluate('the training names no evaluation dataset');
  }
  const dataset = await findDatasetById(deps.knex, datasetId);
  if (!dataset) {
    throw new CannotEvaluate(`dataset ${datasetId} no longer exists`);
  }
  const version = await findVersion(deps.knex, target.modelId, target.round);
  if (!version) {
    throw new CannotEvaluate(`the model has no version for round ${target.round}`);
  }
  const reader = await openDataset(deps.blobs, dataset.blobDigest).catch((err: unknown) => {
    throw downService(err)
      ? err
      : new CannotEvaluate(`the file of dataset ${datasetId} cannot be read: ${messageOf(err)}`);
  });
  const model = await collectBytes(await deps.blobs.read(version.weightsDigest));
  return await evaluateModel(model, reader, dataset.yDtype, (rows) => heartbeat({ round: target.round, rows }));
}

/**
 * Runs every row of `reader` through `model` in batches and folds the outputs into the figures (the evaluation's
 * core, without the database: the benchmark calls it too). `onBatch` hears the rows done after each batch.
 * @throws CannotEvaluate when the model cannot be loaded, does not take the rows, or the labels do not fit.
 */
export async function evaluateModel(
  model: Uint8Array,
  reader: DatasetReader,
  yDtype: string,
  onBatch: (rowsDone: number) => void = () => undefined,
): Promise<{ figures: Record<string, number>; rows: number }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 }).catch((err: unknown) => {
    throw new CannotEvaluate(`onnxruntime cannot load the model: ${messageOf(err)}`);
  });
  try {
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    if (inputName === undefined || outputName === undefined) {
      throw new CannotEvaluate('the model has no input or no output');
    }
    const sums = new EvaluationSums(targetKind(yDtype));
    const batchRows = evaluationBatchRows(reader.x.rowShape);
    for (let start = 0; start < reader.rows; start += batchRows) {
      const count = Math.min(batchRows, reader.rows - start);
      const x = new ort.Tensor('float32', await reader.readRowsFloat32('x', start, count), [
        count,
        ...reader.x.rowShape,
      ]);
      const outputs = await session.run({ [inputName]: x }).catch((err: unknown) => {
        throw new CannotEvaluate(`the model does not take the dataset's rows: ${messageOf(err)}`);
      });
      const output = outputs[outputName];
      // By its type, not `instanceof`: the array comes from the realm of the native binding.
      if (!output || output.type !== 'float32') {
        throw new CannotEvaluate(`the model's output ${outputName} is not a float32 tensor`);
      }
      const width = output.dims.slice(1).reduce((product, dim) => product * dim, 1);
      const labels = await reader.readRows('y', start, count);
      try {
        sums.add(output.data as Float32Array, width, labels);
      } catch (err) {
        throw err instanceof RangeError ? new CannotEvaluate(err.message) : err;
      }
      onBatch(start + count);
    }
    return { figures: sums.figures(), rows: reader.rows };
  } finally {
    await session.release();
  }
}

/** Rows per batch for rows of `rowShape`: at most BATCH_BYTES of float32 input and MAX_BATCH_ROWS rows. */
export function evaluationBatchRows(rowShape: readonly number[]): number {
  const rowElements = rowShape.reduce((product, dim) => product * dim, 1);
  return Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(BATCH_BYTES / (4 * Math.max(1, rowElements)))));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

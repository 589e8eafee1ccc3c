import type { Knex } from 'knex';
import type { Dataset } from '../../db/models/dataset';
import type { FlModel } from '../../db/models/model';
import { findVersion } from '../../db/queries/models';
import { fieldInvalid } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import { storedModelStats } from './model-stats';

/** A model input's dimensions: numbers are fixed, anything else (a name, null) is free. */
export type InputDims = ReadonlyArray<number | string | null>;

/**
 * The dimensions of `model`'s input: its declared `input_shape`, or else its ONNX graph's first input (read from the
 * latest version), or undefined when neither says.
 */
export async function modelInputDims(knex: Knex, blobs: BlobStore, model: FlModel): Promise<InputDims | undefined> {
  if (model.inputShape) {
    return model.inputShape;
  }
  const version = await findVersion(knex, model.id);
  if (!version) {
    return undefined;
  }
  const stats = await storedModelStats(blobs, version.weightsDigest, null);
  return stats.inputs[0]?.shape;
}

/** True when rows of `rowShape` batched fit `dims`: one more dimension (the batch), and every fixed one equal. */
export function rowsFit(rowShape: readonly number[], dims: InputDims): boolean {
  return (
    dims.length === rowShape.length + 1 &&
    rowShape.every((size, i) => {
      const dim = dims[i + 1];
      return typeof dim !== 'number' || dim === size;
    })
  );
}

/**
 * Checks that the rows of an evaluation dataset fit the model's input.
 * @throws 400 on `options.evaluation_dataset` naming both shapes when they do not.
 */
export function checkDatasetFits(dataset: Dataset, dims: InputDims | undefined): void {
  const rowShape = dataset.xShape.slice(1);
  if (dims !== undefined && !rowsFit(rowShape, dims)) {
    const shown = dims.map((dim) => (typeof dim === 'number' ? String(dim) : 'None')).join(', ');
    throw fieldInvalid(
      'options.evaluation_dataset',
      `The rows of dataset ${dataset.id} ([${rowShape.join(', ')}] each) do not fit the model's input [${shown}].`,
    );
  }
}

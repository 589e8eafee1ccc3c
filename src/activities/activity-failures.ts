import { ApplicationFailure } from '@temporalio/common';
import { TrainingActivityErrorCode } from '../error-reasons';
import { isAggregationError } from '../aggregation/errors';
import { isAppError } from '../errors';

/** Thrown when an activity is asked about a training that does not exist (deleted meanwhile): retrying cannot help. */
export function trainingNotFound(trainingId: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `Training ${trainingId} not found.`,
    TrainingActivityErrorCode.TRAINING_NOT_FOUND,
  );
}

/** A permanent failure with one of our codes: missing rows or blobs do not come back by retrying. */
export function permanentFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * Turns a refusal into a non-retryable failure: the engine's refusals keep the engine's code (and the tensor,
 * node or client they name, as details), a missing blob becomes `blob_not_found`. Anything else (a database or
 * disk hiccup) is returned unchanged so the retry policy handles it.
 */
export function asActivityFailure(err: unknown): unknown {
  if (isAggregationError(err)) {
    return ApplicationFailure.create({
      type: err.code,
      message: err.message,
      nonRetryable: true,
      details: [{ tensor: err.tensor ?? null, node: err.node ?? null, clientId: err.clientId ?? null }],
    });
  }
  if (isAppError(err) && err.code === 'not_found') {
    return permanentFailure(TrainingActivityErrorCode.BLOB_NOT_FOUND, err.message);
  }
  return err;
}

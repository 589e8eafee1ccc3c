import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { TrainingErrorCode } from '../error-reasons';
import { type AppError, conflict, conflictBecause, forbidden, invalidInput, unavailable } from '../errors';

/**
 * The one place a Temporal failure becomes an HTTP answer. The workflow refuses an upload in its Update validator
 * with an `ApplicationFailure` whose type is a `TrainingErrorCode` (src/error-reasons.ts); the client sees:
 * - `not_participant`: 403, the reference's answer to a stranger;
 * - `slot_filled`: 409, the slot holds a different upload; `declined`: 409, the client declined that wait;
 * - `starting`: 503 with `Retry-After: 1`, not the client's mistake (the run has not loaded its settings yet);
 * - any other refusal (`wrong_round`, `wrong_phase`, `invalid_upload`): 400 with the type as `details.reason`;
 * - no workflow at all: 400, the training is not running.
 * Anything else (Temporal out of reach, a timeout) is not a refusal: undefined, and the caller answers 503.
 */
export function httpErrorOfWorkflowFailure(err: unknown, trainingId: string): AppError | undefined {
  if (err instanceof WorkflowNotFoundError) {
    return invalidInput(`Training with ID ${trainingId} is not running.`);
  }
  if (!(err instanceof WorkflowUpdateFailedError)) {
    return undefined;
  }
  const cause = err.cause as { type?: unknown; message?: unknown } | undefined;
  const message = typeof cause?.message === 'string' ? cause.message : 'The training refused this request.';
  switch (cause?.type) {
    case TrainingErrorCode.NOT_PARTICIPANT:
      return forbidden(message);
    case TrainingErrorCode.SLOT_FILLED:
      return conflict(message);
    case TrainingErrorCode.DECLINED:
      return conflictBecause(TrainingErrorCode.DECLINED, message);
    case TrainingErrorCode.STARTING:
      return unavailable(message, 1, { reason: 'training_starting' });
    default:
      return invalidInput(message, { reason: cause?.type });
  }
}

/** The `ApplicationFailure.type` a workflow's Update was refused with, or undefined for any other error. */
export function refusalReasonOf(err: unknown): unknown {
  return err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: unknown } | undefined)?.type : undefined;
}

import type { Training } from '../db/models/training';
import type { Upload } from '../db/models/upload';
import type { DeclineRequest, TrainingStatus } from '../workflows/training/definitions';

/** What the API tells a training's run about; the only way routes reach the workflow. */
export interface TrainingOrchestrator {
  /** Starts the run of a training in state INITIAL that has participants (the route checked both). */
  start(training: Training): Promise<void>;
  /**
   * Hands a filled upload slot (update, test or swag) to the run. Called again with the same row when a client
   * retries the exact same upload, so the upload id is the idempotency key (the Temporal Update id). A refusal throws
   * an AppError the route answers with (503 with Retry-After when the run cannot take it now).
   */
  submitUpload(training: Training, upload: Upload): Promise<void>;
  /**
   * Tells the run that a participant sends nothing for its pending task (the decline's Update id is derived from the
   * task, so a retry is the same Update). A refusal throws the AppError the route answers with.
   */
  decline(training: Training, request: DeclineRequest): Promise<void>;
  /** Tells the run that these participants joined: they take part from its next round start. */
  addClients(training: Training, clientIds: readonly string[]): Promise<void>;
  /** Tells the run that these participants left (removed by the actor). */
  removeClients(training: Training, clientIds: readonly string[]): Promise<void>;
  /** Stops the run of a training that is being deleted; a training that never started is ignored. */
  cancel(training: Training): Promise<void>;
  /** Where the run stands (round, phase, who has uploaded, the deadline), or null when no run answers. */
  status(training: Training): Promise<TrainingStatus | null>;
}

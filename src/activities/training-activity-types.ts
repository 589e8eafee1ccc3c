import type { TrainingSettings, UploadSubmission } from '../workflows/training/definitions';
import type { RecordedTrainingState } from '../training-states';

/** Notification types the workflow sends; the values are the reference's. */
export type TrainingNotificationType =
  | 'TRAINING_START'
  | 'UPDATE_ROUND_START'
  | 'MODEL_TEST_ROUND'
  | 'SWAG_ROUND_START'
  | 'TRAINING_FINISHED'
  | 'CLIENT_REMOVED';

/** One notification to several receivers. */
export interface SendNotificationsInput {
  trainingId: string;
  /** Names this notification within the training (e.g. `UPDATE_ROUND_START:3`), so a retried send is not doubled. */
  key: string;
  type: TrainingNotificationType;
  receivers: string[];
  body: Record<string, unknown>;
  /** Fields added to `body` for one receiver (FedDC's `model_uuid`), by receiver id. */
  perReceiver?: Record<string, Record<string, unknown>>;
  /** The round the training is in (absent in inputs recorded before tasks existed). */
  round?: number;
  /** ISO time the wait a task asks for ends; tasks only. */
  deadline?: string;
}

/** The notification types that are tasks: each asks its receiver for one upload in one wait. */
export type TaskNotificationType = Extract<
  TrainingNotificationType,
  'UPDATE_ROUND_START' | 'MODEL_TEST_ROUND' | 'SWAG_ROUND_START'
>;

/** How one wait ended, for its tasks: every task of `type` in `round` is done, and why. */
export interface CloseRoundTasksInput {
  trainingId: string;
  round: number;
  type: TaskNotificationType;
  /** Clients whose upload the wait took. */
  received: string[];
  /** Clients that declined, with their messages. */
  declined: Record<string, string>;
  /** Who still takes part; a receiver no longer among them was removed. */
  participants: string[];
}

/** Receivers whose endpoint still failed after every retry (clients without an endpoint pull and never fail). */
export interface SendNotificationsResult {
  undeliverable: string[];
}

/** The training states the workflow records, as the reference's one-letter codes. */

/** What `aggregateRound` gets: ids and small numbers only, never model bytes. */
export interface AggregateRoundInput {
  trainingId: string;
  round: number;
  updates: UploadSubmission[];
  /** A stateful strategy's state from the previous round (FedAvgM, FedOpt): a blob digest; absent in the first. */
  stateDigest?: string;
}

/** The new version of the global model, by round and blob digest. */
export interface AggregateRoundResult {
  round: number;
  weightsDigest: string;
  /** The state a stateful strategy left for the next round, as a blob digest. */
  stateDigest?: string;
}

/** What `advanceRound` gets: the round a FedDC training finishes without aggregating. */
export interface AdvanceRoundInput {
  trainingId: string;
  round: number;
}

/** What `aggregateSwag` gets: the SWAG round's accepted moments, by upload. */
export interface AggregateSwagInput {
  trainingId: string;
  /** The global model's round the moments were computed around (its last). */
  round: number;
  uploads: UploadSubmission[];
}

/** The model's stored SWAG moments, as blob digests. */
export interface AggregateSwagResult {
  firstMomentDigest: string;
  secondMomentDigest: string;
}

/** Which version of a training's global model to evaluate on its evaluation dataset. */
export interface EvaluateVersionInput {
  trainingId: string;
  /** The version's round: the initial model's, or the one an aggregation produced. */
  round: number;
}

/** The server's figures on one version, or why it has none (an evaluation that fails never fails the training). */
export type EvaluationOutcome =
  { round: number; figures: Record<string, number>; rows: number } | { round: number; error: string };

/** The activities the training workflow calls; `createActivities` implements them over the database, blobs and HTTP. */
export interface TrainingActivities {
  /** Reads the training and its options; the history keeps what it returns. */
  loadTrainingSettings(trainingId: string): Promise<TrainingSettings>;
  /** Persists the training's state (and the reason, for ERROR). */
  recordTrainingState(input: { trainingId: string; state: RecordedTrainingState; error?: string }): Promise<void>;
  /** Stores and pushes a notification to each receiver, with a timeout and retries per receiver. */
  sendNotifications(input: SendNotificationsInput): Promise<SendNotificationsResult>;
  /**
   * Aggregates the round's updates into the next version of the global model; returns its round and digest, and
   * for stateful strategies the digest of the state the next round gets back.
   */
  aggregateRound(input: AggregateRoundInput): Promise<AggregateRoundResult>;
  /**
   * Moves the global model to round `round + 1` without aggregating (FedDC between aggregations): the new version is
   * the current weights. Returns the new round and its digest.
   */
  advanceRound(input: AdvanceRoundInput): Promise<AggregateRoundResult>;
  /**
   * Stores the sample-size-weighted means of the SWAG round's first and second moments as the model's SWAG moments
   * (a global model becomes a SWAG model).
   */
  aggregateSwag(input: AggregateSwagInput): Promise<AggregateSwagResult>;
  /**
   * Evaluates a version of the global model on the training's evaluation dataset with onnxruntime, in batches, and
   * stores the figures as the server's metrics of that round; a dataset or model it cannot evaluate is recorded as
   * the reason the round has no figures, not thrown.
   */
  evaluateVersion(input: EvaluateVersionInput): Promise<EvaluationOutcome>;
  /** Marks every task of a wait done once the wait ends: uploaded, declined, removed, or left out at the deadline. */
  closeRoundTasks(input: CloseRoundTasksInput): Promise<void>;
  /** Removes a client from the training's participants in the database. */
  removeParticipant(input: { trainingId: string; clientId: string; reason: string }): Promise<void>;
}

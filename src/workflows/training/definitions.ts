import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes every training workflow keeps current (registered from temporal.yaml). */
export const TRAINING_STATE = defineSearchAttributeKey('TrainingState', SearchAttributeType.KEYWORD);
export const TRAINING_ROUND = defineSearchAttributeKey('TrainingRound', SearchAttributeType.INT);
export const TRAINING_ACTOR = defineSearchAttributeKey('TrainingActor', SearchAttributeType.KEYWORD);
export const AGGREGATION_METHOD = defineSearchAttributeKey('AggregationMethod', SearchAttributeType.KEYWORD);

/** The workflow id of a training: one workflow per training, named after it. */
export function trainingWorkflowId(trainingId: string): string {
  return `training-${trainingId}`;
}

/** What the workflow needs to know about its training, loaded once by an activity (so history holds it). */
export interface TrainingSettings {
  trainingId: string;
  modelId: string;
  actorId: string;
  participants: string[];
  /** The global model's round when the training starts. */
  startRound: number;
  /** Aggregations to run, counted from round 0 as the reference does (at least one round always runs). */
  targetNumUpdates: number;
  aggregationMethod: string;
  skipModelTests: boolean;
  /**
   * False: the model is tested only after the last aggregation. Absent in settings recorded before the option
   * existed, which means true (the reference's default).
   */
  modelTestAfterEachRound?: boolean;
  roundTimeoutMs: number;
  testTimeoutMs: number;
  /** Updates needed to aggregate at the deadline; undefined means every participant. */
  minClients: number | undefined;
  minFraction: number | undefined;
  /** Sent to clients in every round-start body (FedProx). */
  proximalMu: number | undefined;
  /** `SWAG` adds the SWAG round after the last aggregation; absent in settings recorded before it existed. */
  uncertaintyMethod?: string;
  /**
   * FedDC only (docs/training.md#feddc): aggregate after every `aggregationPeriod` rounds, daisy-chain the updates to
   * other participants after every `daisyChainPeriod` rounds in between.
   */
  daisyChain?: { daisyChainPeriod: number; aggregationPeriod: number };
  /**
   * The dataset the server evaluates the initial model and every aggregate on (docs/training.md#server-evaluation);
   * absent when the training names none, and in settings recorded before evaluations existed.
   */
  evaluationDatasetId?: number;
  /**
   * The task queue of the heavy activities (aggregations, evaluations), when the deployment gives them workers of
   * their own; absent, they run on the training's task queue (and in every run recorded before).
   */
  aggregationTaskQueue?: string;
}

/** Upload phases, as the `uploads` table names them. */
export type UploadPhase = 'update' | 'test' | 'swag';

/** An upload already stored durably (blob and row) by the API, handed to the workflow. */
export interface UploadSubmission {
  clientId: string;
  round: number;
  phase: UploadPhase;
  uploadId: string;
  /** Sample size of an update or of SWAG moments; the aggregation weights it. */
  sampleSize?: number;
  /** The local model an update stored (FedDC hands it on to another participant); absent for other phases. */
  modelId?: string;
}

/** The workflow's answer to an accepted upload. */
export interface UploadAccepted {
  accepted: true;
  round: number;
  phase: UploadPhase;
  /** Uploads of this phase and round received so far, this one included. */
  received: number;
  expected: number;
}

/** Where a training stands, for the API and the Web UI. */
export interface TrainingStatus {
  trainingId: string;
  phase: TrainingPhase;
  round: number;
  participants: string[];
  received: string[];
  missing: string[];
  /** ISO time when the current wait ends; null when nothing is awaited. */
  deadline: string | null;
  extended: boolean;
  leftOut: Record<string, string[]>;
  /** Who declined the current wait, with their message (absent in statuses from before declines existed). */
  declined?: Record<string, string>;
}

/** What the workflow is doing. */
export type TrainingPhase = 'STARTING' | 'UPDATE' | 'AGGREGATING' | 'TEST' | 'SWAG' | 'FINISHED' | 'FAILED';

/** A client that joins a running training; it takes part from the next round start. */
export interface AddClientRequest {
  clientId: string;
}

/** Why a client leaves a training. */
export interface RemoveClientRequest {
  clientId: string;
  reason: string;
}

/** A participant's word that it will send nothing for the current wait of `round` (its pending task of `phase`). */
export interface DeclineRequest {
  clientId: string;
  round: number;
  phase: UploadPhase;
  /** Why, in the client's words (at most DECLINE_MESSAGE_MAX characters); empty when it gave none. */
  message: string;
}

/** The longest decline message kept. */
export const DECLINE_MESSAGE_MAX = 1000;

/** The workflow's answer to an accepted decline: the wait no longer counts on the client. */
export interface DeclineAccepted {
  declined: true;
  round: number;
  phase: UploadPhase;
}

/** Hands a stored upload to the workflow; the validator refuses a wrong round or phase, a stranger, a filled slot. */
export const submitUploadUpdate = defineUpdate<UploadAccepted, [UploadSubmission]>('submitUploadUpdate');
/** Leaves a participant out of the current wait at once; the validator refuses a wrong round or phase, a filled slot. */
export const declineUpdate = defineUpdate<DeclineAccepted, [DeclineRequest]>('declineUpdate');
/** Adds a client to a running training (a group member that joined, or one the actor added) from the next round. */
export const addClientSignal = defineSignal<[AddClientRequest]>('addClientSignal');
/** Removes a client from the training; the current round stops waiting for it at once. */
export const removeClientSignal = defineSignal<[RemoveClientRequest]>('removeClientSignal');
/** The training's round, phase, who has and has not uploaded, and the deadline. */
export const trainingStatusQuery = defineQuery<TrainingStatus>('trainingStatusQuery');

/** The Update id of a decline: derived from the task it declines, so a retried decline is the same Update. */
export function declineUpdateId(trainingId: string, round: number, clientId: string, phase: UploadPhase): string {
  return `decline:${trainingId}:${round}:${clientId}:${phase}`;
}

/** The Update id of an upload: derived from its slot, so a retried upload is the same Update. */
export function uploadUpdateId(trainingId: string, round: number, clientId: string, phase: UploadPhase): string {
  return `upload:${trainingId}:${round}:${clientId}:${phase}`;
}

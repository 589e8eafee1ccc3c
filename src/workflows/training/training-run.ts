import { ApplicationFailure } from '@temporalio/common';
import type { EvaluationOutcome } from '../../activities/training-activity-types';
import { TrainingErrorCode } from '../../error-reasons';
import {
  type DeclineAccepted,
  type DeclineRequest,
  type TrainingPhase,
  type TrainingSettings,
  type TrainingStatus,
  type UploadAccepted,
  type UploadPhase,
  type UploadSubmission,
} from './definitions';

/** The phases that wait for uploads, and the upload phase each one takes. */
export type WaitPhase = 'UPDATE' | 'TEST' | 'SWAG';
const UPLOAD_PHASES: Readonly<Record<WaitPhase, UploadPhase>> = { UPDATE: 'update', TEST: 'test', SWAG: 'swag' };
const UPLOAD_NAMES: Readonly<Record<UploadPhase, string>> = {
  update: 'model updates',
  test: 'test metrics',
  swag: 'SWAG moments',
};

/** What continue-as-new carries to the next run: small numbers and ids only, never model bytes. */
export interface CarriedTrainingState {
  settings: TrainingSettings;
  round: number;
  participants: string[];
  leftOut: Record<string, string[]>;
  /** Updates for `round` that arrived before its update wait began (absent in older histories). */
  early?: UploadSubmission[];
  /** The blob digest of a stateful strategy's state (FedAvgM, FedOpt moments); never the state itself. */
  strategyStateDigest?: string;
  /** FedDC: the seed its daisy-chain permutations are drawn from, and who trains which local model this round. */
  daisyChain?: { seed: number; assignments: Record<string, string> };
  /** Clients that joined and take part from the next round start (absent in older histories). */
  joining?: string[];
}

/**
 * The state of one training's workflow: its participants, the current round and phase, and the uploads received
 * for the slot being waited on. Messages change it only through `accept` (an Update, after `validate` ran
 * synchronously) and `remove` (a Signal); the main loop reads it through `allArrived` and `quorum`. Handlers never
 * await while they change it, so no lock is needed: each runs to completion within one activation.
 */
export class TrainingRun {
  phase: TrainingPhase = 'STARTING';
  round: number;
  participants: string[];
  extended = false;
  deadlineMs: number | null = null;
  /** The blob digest of the strategy state the last aggregation left (stateful strategies only). */
  strategyStateDigest: string | undefined;
  /**
   * FedDC's seed (drawn once per training) and the local model each participant trains from in the current round;
   * a participant without an assignment trains from the global model. Undefined for other methods.
   */
  daisyChain: { seed: number; assignments: Record<string, string> } | undefined;
  readonly leftOut: Record<string, string[]>;
  private received = new Map<string, UploadSubmission>();
  /** Who declined the current wait, with their message: the wait does not count on them. */
  private declined = new Map<string, string>();
  private waitingFor: UploadSubmission['phase'] | null = null;
  /**
   * Updates for the current round that came before its update wait (the reference accepts a round's update as soon
   * as the global model has that round, during its test phase): they count once the wait begins.
   */
  private early = new Map<string, UploadSubmission>();
  /** The round whose update wait has begun; an update for it outside that wait is late, not early. */
  private updatesOpenedFor: number | null = null;
  /** The last server evaluation's outcome, for the Web UI (not carried: the memo keeps it across runs). */
  lastEvaluation: EvaluationOutcome | undefined;
  /** Clients that joined since the last round start: they become participants at the next one. */
  private joining: string[];

  constructor(
    readonly settings: TrainingSettings,
    carried?: CarriedTrainingState,
  ) {
    this.round = carried?.round ?? settings.startRound;
    this.participants = [...(carried?.participants ?? settings.participants)];
    this.leftOut = { ...(carried?.leftOut ?? {}) };
    this.strategyStateDigest = carried?.strategyStateDigest;
    this.daisyChain = carried?.daisyChain;
    this.joining = [...(carried?.joining ?? [])];
    for (const upload of carried?.early ?? []) {
      this.early.set(upload.clientId, upload);
    }
  }

  /** Starts waiting for one upload per participant in `phase` of the current round, until `deadlineMs`. */
  beginWait(phase: WaitPhase, deadlineMs: number): void {
    this.phase = phase;
    this.waitingFor = UPLOAD_PHASES[phase];
    this.received = new Map();
    this.declined = new Map();
    if (phase === 'UPDATE') {
      this.updatesOpenedFor = this.round;
      for (const [clientId, upload] of this.early) {
        if (upload.round === this.round && this.participants.includes(clientId)) {
          this.received.set(clientId, upload);
        }
      }
      this.early = new Map();
    }
    this.deadlineMs = deadlineMs;
    this.extended = false;
  }

  /** Ends the wait; uploads arriving now are refused as out of phase. */
  endWait(phase: TrainingPhase): UploadSubmission[] {
    const uploads = [...this.received.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
    this.phase = phase;
    this.waitingFor = null;
    this.deadlineMs = null;
    return uploads;
  }

  /** The Update validator: synchronous, so a refusal writes nothing to history. */
  validate(upload: UploadSubmission): void {
    if (!this.participants.includes(upload.clientId)) {
      throw failure(
        TrainingErrorCode.NOT_PARTICIPANT,
        `User ${upload.clientId} is not a participant of this training.`,
      );
    }
    if (this.waitingFor !== upload.phase && !this.isEarly(upload)) {
      throw failure(
        TrainingErrorCode.WRONG_PHASE,
        `The training is not waiting for ${UPLOAD_NAMES[upload.phase]} now (phase ${this.phase}).`,
      );
    }
    if (upload.round !== this.round) {
      throw failure(
        TrainingErrorCode.WRONG_ROUND,
        `Wrong round: the training is in round ${this.round}, not ${upload.round}.`,
      );
    }
    if (this.declined.has(upload.clientId) && !this.isEarly(upload)) {
      throw failure(
        TrainingErrorCode.DECLINED,
        `This client declined its ${UPLOAD_NAMES[upload.phase]} task of round ${this.round}; it sends nothing more for it.`,
      );
    }
    if (this.received.has(upload.clientId) || (this.isEarly(upload) && this.early.has(upload.clientId))) {
      throw failure(
        TrainingErrorCode.SLOT_FILLED,
        `An upload for round ${this.round} was already received from this client.`,
      );
    }
    if (upload.phase !== 'test' && !(Number.isInteger(upload.sampleSize) && (upload.sampleSize ?? 0) > 0)) {
      const what = upload.phase === 'update' ? 'An update needs' : 'SWAG moments need';
      throw failure(TrainingErrorCode.INVALID_UPLOAD, `${what} a positive integer sample_size.`);
    }
  }

  /** Records a validated upload. */
  accept(upload: UploadSubmission): UploadAccepted {
    const into = this.isEarly(upload) ? this.early : this.received;
    into.set(upload.clientId, upload);
    return {
      accepted: true,
      round: upload.round,
      phase: upload.phase,
      received: into.size,
      expected: this.participants.length,
    };
  }

  /**
   * The decline Update's validator: the client is a participant, the training waits for `phase` in `round`, and the
   * client has not uploaded for it. A repeated decline passes (and is answered as the first).
   */
  validateDecline(request: DeclineRequest): void {
    if (!this.participants.includes(request.clientId)) {
      throw failure(
        TrainingErrorCode.NOT_PARTICIPANT,
        `User ${request.clientId} is not a participant of this training.`,
      );
    }
    if (this.waitingFor !== request.phase || request.round !== this.round) {
      throw failure(
        TrainingErrorCode.WRONG_PHASE,
        `The training is not waiting for ${UPLOAD_NAMES[request.phase]} of round ${request.round} now (round ${this.round}, phase ${this.phase}).`,
      );
    }
    if (this.received.has(request.clientId)) {
      throw failure(
        TrainingErrorCode.SLOT_FILLED,
        `This client's ${UPLOAD_NAMES[request.phase]} for round ${this.round} arrived already; it cannot be declined.`,
      );
    }
  }

  /** Records a validated decline: the current wait stops counting on the client at once. */
  acceptDecline(request: DeclineRequest): DeclineAccepted {
    if (!this.declined.has(request.clientId)) {
      this.declined.set(request.clientId, request.message);
    }
    return { declined: true, round: request.round, phase: request.phase };
  }

  /** Declines in the current wait. */
  declinedCount(): number {
    return this.declined.size;
  }

  /** What the current wait's tasks came to: who uploaded, who declined (with the message), who still takes part. */
  waitOutcome(): { received: string[]; declined: Record<string, string>; participants: string[] } {
    return {
      received: [...this.received.keys()].sort(),
      declined: Object.fromEntries(this.declined),
      participants: [...this.participants],
    };
  }

  /** An update for the current round before its update wait began (while its model is tested, or between runs). */
  private isEarly(upload: UploadSubmission): boolean {
    return (
      upload.phase === 'update' &&
      this.waitingFor !== 'update' &&
      upload.round === this.round &&
      this.updatesOpenedFor !== this.round
    );
  }

  /**
   * Notes a client that joined; it takes part from the next round start (`admitJoiners`), so no wait under way
   * changes its count. Returns whether it was new.
   */
  join(clientId: string): boolean {
    if (this.participants.includes(clientId) || this.joining.includes(clientId)) {
      return false;
    }
    this.joining.push(clientId);
    return true;
  }

  /** Makes the clients that joined participants; called as a round starts, before it asks for updates. */
  admitJoiners(): string[] {
    const admitted = this.joining;
    this.joining = [];
    this.participants = [...this.participants, ...admitted];
    return admitted;
  }

  /** Removes a client; returns whether it was a participant. Its upload in the current wait no longer counts. */
  remove(clientId: string): boolean {
    this.joining = this.joining.filter((id) => id !== clientId);
    if (!this.participants.includes(clientId)) {
      return false;
    }
    this.participants = this.participants.filter((id) => id !== clientId);
    this.received.delete(clientId);
    this.declined.delete(clientId);
    this.early.delete(clientId);
    return true;
  }

  /** True once every current participant has uploaded for the current wait or declined it. */
  allArrived(): boolean {
    return this.participants.every((id) => this.received.has(id) || this.declined.has(id));
  }

  /**
   * The round the training ends at: `targetNumUpdates` counts aggregations, and FedDC aggregates every
   * `aggregationPeriod` rounds.
   */
  finalRound(): number {
    return this.settings.targetNumUpdates * (this.settings.daisyChain?.aggregationPeriod ?? 1);
  }

  /**
   * How many updates a round needs to aggregate at its deadline: `min_clients`, or `min_fraction` of the
   * participants, or by default every participant that did not decline.
   */
  quorum(): number {
    const { minClients, minFraction } = this.settings;
    const everyone = this.participants.length - this.declined.size;
    const wanted =
      minClients ?? (minFraction === undefined ? everyone : Math.ceil(minFraction * this.participants.length));
    return Math.max(1, wanted);
  }

  /** Uploads received in the current wait. */
  receivedCount(): number {
    return this.received.size;
  }

  /** Notes who was left out of the current round's aggregation (under `key`: the round, or `swag`). */
  recordLeftOut(key = String(this.round)): string[] {
    const missing = this.participants.filter((id) => !this.received.has(id));
    if (missing.length > 0) {
      this.leftOut[key] = missing;
    }
    return missing;
  }

  /** The status the query answers. */
  status(): TrainingStatus {
    return {
      trainingId: this.settings.trainingId,
      phase: this.phase,
      round: this.round,
      participants: [...this.participants],
      received: [...this.received.keys()].sort(),
      missing: this.waitingFor
        ? this.participants.filter((id) => !this.received.has(id) && !this.declined.has(id))
        : [],
      deadline: this.deadlineMs === null ? null : new Date(this.deadlineMs).toISOString(),
      extended: this.extended,
      leftOut: { ...this.leftOut },
      declined: Object.fromEntries(this.declined),
    };
  }

  /** What continue-as-new carries forward (only between rounds, when no upload is awaited). */
  carry(): CarriedTrainingState {
    return {
      settings: this.settings,
      round: this.round,
      participants: [...this.participants],
      leftOut: { ...this.leftOut },
      early: [...this.early.values()],
      ...(this.strategyStateDigest === undefined ? {} : { strategyStateDigest: this.strategyStateDigest }),
      ...(this.daisyChain === undefined ? {} : { daisyChain: this.daisyChain }),
      ...(this.joining.length === 0 ? {} : { joining: [...this.joining] }),
    };
  }
}

function failure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

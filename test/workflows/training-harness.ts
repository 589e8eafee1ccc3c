import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type {
  CloseRoundTasksInput,
  SendNotificationsInput,
  TrainingActivities,
} from '../../src/activities/training-activity-types';
import {
  type TrainingSettings,
  type TrainingStatus,
  type UploadPhase,
  type DeclineAccepted,
  declineUpdate,
  declineUpdateId,
  submitUploadUpdate,
  trainingStatusQuery,
  uploadUpdateId,
} from '../../src/workflows/training/definitions';

/** Settings for a workflow test: three clients, two rounds, short deadlines. */
export function testSettings(overrides: Partial<TrainingSettings> = {}): TrainingSettings {
  return {
    trainingId: `t-${Math.random().toString(36).slice(2)}`,
    modelId: 'model-1',
    actorId: 'actor',
    participants: ['client-a', 'client-b', 'client-c'],
    startRound: 0,
    targetNumUpdates: 2,
    aggregationMethod: 'FedAvg',
    skipModelTests: false,
    roundTimeoutMs: 60_000,
    testTimeoutMs: 60_000,
    minClients: undefined,
    minFraction: undefined,
    proximalMu: undefined,
    ...overrides,
  };
}

/** What the fake activities saw. */
export interface ActivityCalls {
  states: Array<{ state: string; error?: string }>;
  notifications: SendNotificationsInput[];
  aggregations: Array<{ round: number; clients: string[]; sampleSizes: number[] }>;
  removed: Array<{ clientId: string; reason: string }>;
  swag: Array<{ round: number; clients: string[]; sampleSizes: number[] }>;
  /** Rounds a FedDC training finished without aggregating. */
  advanced: number[];
  /** How each wait's tasks were closed. */
  closed: CloseRoundTasksInput[];
  /** Versions the server evaluated, in the order asked. */
  evaluated: number[];
}

/** In-memory activities: the workflow's logic is tested here; the real activities have their own tests. */
export function fakeActivities(
  settings: TrainingSettings,
  undeliverable: ReadonlySet<string> = new Set(),
  failEvaluationOf: ReadonlySet<number> = new Set(),
): { calls: ActivityCalls; activities: TrainingActivities } {
  const calls: ActivityCalls = {
    states: [],
    notifications: [],
    aggregations: [],
    removed: [],
    swag: [],
    advanced: [],
    closed: [],
    evaluated: [],
  };
  const activities: TrainingActivities = {
    loadTrainingSettings: () => Promise.resolve(settings),
    recordTrainingState: ({ state, error }) => {
      calls.states.push(error === undefined ? { state } : { state, error });
      return Promise.resolve();
    },
    sendNotifications: (input) => {
      calls.notifications.push(input);
      const failed = input.type === 'CLIENT_REMOVED' ? [] : input.receivers.filter((r) => undeliverable.has(r));
      return Promise.resolve({ undeliverable: failed });
    },
    aggregateRound: ({ round, updates }) => {
      calls.aggregations.push({
        round,
        clients: updates.map((u) => u.clientId),
        sampleSizes: updates.map((u) => u.sampleSize ?? 0),
      });
      return Promise.resolve({ round: round + 1, weightsDigest: 'a'.repeat(64) });
    },
    advanceRound: ({ round }) => {
      calls.advanced.push(round);
      return Promise.resolve({ round: round + 1, weightsDigest: 'a'.repeat(64) });
    },
    aggregateSwag: ({ round, uploads }) => {
      calls.swag.push({
        round,
        clients: uploads.map((u) => u.clientId),
        sampleSizes: uploads.map((u) => u.sampleSize ?? 0),
      });
      return Promise.resolve({ firstMomentDigest: 'b'.repeat(64), secondMomentDigest: 'c'.repeat(64) });
    },
    evaluateVersion: ({ round }) => {
      calls.evaluated.push(round);
      if (failEvaluationOf.has(round)) {
        return Promise.reject(ApplicationFailure.nonRetryable('the evaluation worker is gone', 'evaluation_lost'));
      }
      return Promise.resolve({ round, figures: { loss: 2 - round, accuracy: 0.1 * (round + 1) }, rows: 1000 });
    },
    closeRoundTasks: (input) => {
      calls.closed.push(input);
      return Promise.resolve();
    },
    removeParticipant: ({ clientId, reason }) => {
      calls.removed.push({ clientId, reason });
      return Promise.resolve();
    },
  };
  return { calls, activities };
}

/** Polls the status query until `predicate` holds (the workflow runs on a real server, so this takes a moment). */
export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (status: TrainingStatus) => boolean,
  timeoutMs = 20_000,
): Promise<TrainingStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(trainingStatusQuery);
    if (predicate(status)) {
      return status;
    }
    if (Date.now() > deadline) {
      throw new Error(`status never matched; last: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Uploads for `clients` once the workflow waits for `phase` in `round`, as the API would after storing them. */
export async function upload(
  handle: WorkflowHandle,
  settings: TrainingSettings,
  round: number,
  phase: UploadPhase,
  clients: string[],
): Promise<void> {
  const wanted = ({ update: 'UPDATE', test: 'TEST', swag: 'SWAG' } as const)[phase];
  await waitForStatus(handle, (s) => s.phase === wanted && s.round === round);
  for (const clientId of clients) {
    await handle.executeUpdate(submitUploadUpdate, {
      args: [
        {
          clientId,
          round,
          phase,
          uploadId: `${clientId}-${round}-${phase}`,
          sampleSize: phase === 'test' ? undefined : 1000,
          modelId: phase === 'update' ? `local-${clientId}-${round}` : undefined,
        },
      ],
      updateId: uploadUpdateId(settings.trainingId, round, clientId, phase),
    });
  }
}

/** Declines `phase` of `round` for `client` as the API would, once the workflow waits for it. */
export async function decline(
  handle: WorkflowHandle,
  settings: TrainingSettings,
  round: number,
  phase: UploadPhase,
  clientId: string,
  message: string,
): Promise<DeclineAccepted> {
  const wanted = ({ update: 'UPDATE', test: 'TEST', swag: 'SWAG' } as const)[phase];
  await waitForStatus(handle, (s) => s.phase === wanted && s.round === round);
  return await handle.executeUpdate(declineUpdate, {
    args: [{ clientId, round, phase, message }],
    updateId: declineUpdateId(settings.trainingId, round, clientId, phase),
  });
}

/** The failure type of a refused Update, or `other`. */
export function refusalType(err: unknown): string {
  return err instanceof WorkflowUpdateFailedError ? String((err.cause as { type?: string }).type) : 'other';
}

import { createHash } from 'node:crypto';
import { Context, heartbeat, sleep } from '@temporalio/activity';
import type { Knex } from 'knex';
import pLimit from 'p-limit';
import { notifications } from '../metrics/metrics';
import {
  findReceivers,
  type NotificationRow,
  type Receiver,
  recordDelivery,
  storeNotificationsOnce,
} from '../db/queries/notifications';
import { openRound } from '../db/queries/rounds';
import { phaseOfTask } from '../db/queries/tasks';
import { listUploadsOfWait } from '../db/queries/uploads';
import type { Logger } from '../logger';
import { deliverNotification } from '../notifications/deliver';
import type { SendNotificationsInput, SendNotificationsResult } from './training-activity-types';

/** How pushes are made. */
export interface DeliverySettings {
  timeoutMs: number;
  /** Attempts per receiver before it counts as unreachable. */
  attempts: number;
  /** Wait before the second attempt; doubled for each further one. */
  backoffMs: number;
  /** Pushes in flight at once. */
  concurrency: number;
  allowPrivateAddresses: boolean;
}

/**
 * The same notification to the same receiver always gets the same id, so an activity retried after a crash finds
 * what it stored and delivered before instead of pushing it twice.
 */
export function notificationId(trainingId: string, key: string, receiverId: string): string {
  const hex = createHash('sha256').update(`${trainingId}\n${key}\n${receiverId}`).digest('hex');
  // Formatted as an RFC 9562 version 8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A task's round: the input's, or, in an input scheduled before inputs named it (an activity retried across the
 * upgrade), the body's, which every task carries.
 */
function roundOf(input: SendNotificationsInput): number {
  return input.round ?? Number(input.body.round);
}

/** The notification activity group. */
export interface NotificationActivities {
  sendNotifications: (input: SendNotificationsInput) => Promise<SendNotificationsResult>;
}

/** How often a running notification activity tells Temporal its worker is alive. */
export const NOTIFICATION_HEARTBEAT_MS = 5_000;

/**
 * Heartbeats every `everyMs` while `work` runs. One push may wait out its whole timeout and backoff, and hundreds of
 * receivers may be pushed in one activity: a steady heartbeat lets the workflow give the activity hours in all and
 * still notice a dead worker within its heartbeat timeout.
 */
async function withHeartbeats<T>(everyMs: number, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The notification activity: store each notification, push it where there is an endpoint, report who is unreachable. */
export function createNotificationActivities(deps: {
  knex: Knex;
  logger: Logger;
  delivery: DeliverySettings;
  /** Defaults to NOTIFICATION_HEARTBEAT_MS; tests shorten it. */
  heartbeatEveryMs?: number;
}): NotificationActivities {
  const { knex, logger, delivery } = deps;
  const heartbeatEveryMs = deps.heartbeatEveryMs ?? NOTIFICATION_HEARTBEAT_MS;

  // A loop, not p-retry: the wait is the activity's sleep, which ends when the activity is cancelled (p-retry's timers
  // cannot be), and p-retry gives up at once on a TypeError, which an invalid endpoint URL throws here and which must
  // count as a failed attempt like any other.
  async function pushWithRetries(
    log: Logger,
    receiver: Receiver,
    id: string,
    payload: Record<string, unknown>,
  ): Promise<boolean> {
    let lastError = '';
    for (let attempt = 1; attempt <= delivery.attempts; attempt += 1) {
      try {
        await deliverNotification({
          endpoint: receiver.messageEndpoint,
          notificationId: id,
          secret: receiver.notificationSecret,
          payload,
          timeoutMs: delivery.timeoutMs,
          allowPrivateAddresses: delivery.allowPrivateAddresses,
        });
        await recordDelivery(knex, id, { delivered: true, attempts: attempt, lastError: null });
        return true;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        heartbeat({ receiver: receiver.id, attempt });
        if (attempt < delivery.attempts) {
          await sleep(delivery.backoffMs * 2 ** (attempt - 1));
        }
      }
    }
    await recordDelivery(knex, id, { delivered: false, attempts: delivery.attempts, lastError });
    log.warn('notification undeliverable', { notificationId: id, receiver: receiver.id, error: lastError });
    return false;
  }

  return {
    sendNotifications: (input) => withHeartbeats(heartbeatEveryMs, () => send(input)),
  };

  /**
   * What makes a notification a task (docs/api.md#tasks): its deadline and state. A round start also records the
   * round. A client whose upload for the wait came first (an early update) gets its task done already.
   */
  async function taskFields(
    input: SendNotificationsInput,
  ): Promise<(receiverId: string) => Pick<NotificationRow, 'deadline' | 'taskState' | 'doneReason'>> {
    const phase = phaseOfTask(input.type);
    if (phase === undefined) {
      return () => ({ deadline: null, taskState: null, doneReason: null });
    }
    const deadline = input.deadline === undefined ? null : new Date(input.deadline);
    const round = roundOf(input);
    if (input.type === 'UPDATE_ROUND_START') {
      await openRound(knex, input.trainingId, round, deadline);
    }
    const uploaded = new Set(
      (await listUploadsOfWait(knex, input.trainingId, round, phase)).map((upload) => upload.clientId),
    );
    return (receiverId) =>
      uploaded.has(receiverId)
        ? { deadline, taskState: 'DONE', doneReason: 'uploaded' }
        : { deadline, taskState: 'PENDING', doneReason: null };
  }

  async function send(input: SendNotificationsInput): Promise<SendNotificationsResult> {
    const log = logger.child({ trainingId: input.trainingId });
    const receivers = await findReceivers(knex, input.receivers);
    const bodies = receivers.map((receiver) => ({ ...input.body, ...input.perReceiver?.[receiver.id] }));
    const ids = receivers.map((receiver) => notificationId(input.trainingId, input.key, receiver.id));
    const task = await taskFields(input);
    const states = await storeNotificationsOnce(
      knex,
      receivers.map((receiver, i) => ({
        id: ids[i] ?? '',
        receiverId: receiver.id,
        trainingId: input.trainingId,
        type: input.type,
        body: bodies[i] ?? input.body,
        deliveryState: receiver.messageEndpoint ? 'PENDING' : 'PULL',
        round: phaseOfTask(input.type) === undefined ? (input.round ?? null) : roundOf(input),
        ...task(receiver.id),
      })),
    );
    const limit = pLimit(delivery.concurrency);
    const deliver = async (receiver: Receiver, i: number): Promise<boolean> => {
      const id = ids[i] ?? '';
      const state = states.get(id);
      if (state !== 'PENDING') {
        // Delivered by an earlier attempt of this activity, or a pull-only client: nothing to push.
        if (state === 'PULL') {
          notifications.inc({ type: input.type, outcome: 'pull' });
        }
        return state !== 'FAILED';
      }
      const payload = { notification_type: input.type, body: bodies[i], training_uuid: input.trainingId };
      const pushed = await pushWithRetries(log, receiver, id, payload);
      notifications.inc({ type: input.type, outcome: pushed ? 'delivered' : 'failed' });
      return pushed;
    };
    const delivered = await Promise.all(receivers.map((receiver, i) => limit(() => deliver(receiver, i))));
    return { undeliverable: receivers.filter((_, i) => !delivered[i]).map((r) => r.id) };
  }
}

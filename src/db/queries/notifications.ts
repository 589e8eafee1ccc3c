import type { Knex } from 'knex';
import {
  type DeliveryState,
  type DoneReason,
  Notification,
  type NotificationType,
  type TaskState,
} from '../models/notification';
import { User } from '../models/user';

/** Where and how to reach a receiver: its endpoint, and the secret its pushes are signed with. */
export interface Receiver {
  id: string;
  notificationSecret: string;
  messageEndpoint: string;
}

/** The receivers of a notification with their endpoints and notification secrets (unknown ids are left out). */
export async function findReceivers(knex: Knex, ids: string[]): Promise<Receiver[]> {
  const users = await User.query(knex).whereIn('id', ids).select('id', 'notificationSecret', 'messageEndpoint');
  return users.map((u) => ({ id: u.id, notificationSecret: u.notificationSecret, messageEndpoint: u.messageEndpoint }));
}

/** A notification to store. */
export interface NotificationRow {
  id: string;
  receiverId: string;
  trainingId: string;
  type: NotificationType;
  body: Record<string, unknown>;
  deliveryState: DeliveryState;
  round: number | null;
  /** Tasks only: when their wait ends, PENDING (or DONE as uploaded when the upload came first), and why. */
  deadline: Date | null;
  taskState: TaskState | null;
  doneReason: DoneReason | null;
}

/**
 * Stores notifications once, in one statement: a retried activity finds the rows it wrote before (same ids) and
 * leaves them as they are.
 * @returns each stored row's delivery state by id, whatever it is.
 */
export async function storeNotificationsOnce(
  knex: Knex,
  rows: readonly NotificationRow[],
): Promise<Map<string, DeliveryState>> {
  if (rows.length === 0) {
    return new Map();
  }
  await Notification.query(knex)
    .insert(rows.map((row) => ({ ...row })))
    .onConflict('id')
    .ignore();
  const stored = await Notification.query(knex)
    .whereIn(
      'id',
      rows.map((row) => row.id),
    )
    .select('id', 'deliveryState');
  return new Map(stored.map((row) => [row.id, row.deliveryState]));
}

/** Records the outcome of a delivery attempt series. */
export async function recordDelivery(
  knex: Knex,
  id: string,
  outcome: { delivered: boolean; attempts: number; lastError: string | null },
): Promise<void> {
  await Notification.query(knex)
    .findById(id)
    .patch({
      deliveryState: outcome.delivered ? 'DELIVERED' : 'FAILED',
      attempts: outcome.attempts,
      lastError: outcome.lastError,
      deliveredAt: outcome.delivered ? new Date() : null,
    });
}

/**
 * Whether a training told `receiverId` to start a round from model `modelId` (FedDC's `model_uuid` in an
 * UPDATE_ROUND_START): the stored notification is the assignment.
 */
export async function wasAssignedModel(
  knex: Knex,
  trainingId: string,
  receiverId: string,
  modelId: string,
): Promise<boolean> {
  const row = await Notification.query(knex)
    .where({ trainingId, receiverId, type: 'UPDATE_ROUND_START' })
    .whereRaw("body->>'model_uuid' = ?", [modelId])
    .select('id')
    .first();
  return row !== undefined;
}

import type { Knex } from 'knex';
import { type DeliveryState, Notification, type NotificationType } from '../models/notification';
import { User } from '../models/user';

/** Where and how to reach a receiver. */
export interface Receiver {
  id: string;
  token: string;
  messageEndpoint: string;
}

/** The receivers of a notification with their endpoints and tokens (unknown ids are left out). */
export async function findReceivers(knex: Knex, ids: string[]): Promise<Receiver[]> {
  const users = await User.query(knex).whereIn('id', ids).select('id', 'token', 'messageEndpoint');
  return users.map((u) => ({ id: u.id, token: u.token, messageEndpoint: u.messageEndpoint }));
}

/**
 * Stores a notification once: a retried activity finds the row it wrote before (same id) and leaves it as it is.
 * @returns the stored row, whatever its delivery state.
 */
export async function storeNotificationOnce(
  knex: Knex,
  row: {
    id: string;
    receiverId: string;
    trainingId: string;
    type: NotificationType;
    body: Record<string, unknown>;
    deliveryState: DeliveryState;
  },
): Promise<Notification> {
  await Notification.query(knex).insert(row).onConflict('id').ignore();
  return Notification.query(knex).findById(row.id).throwIfNotFound();
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

import { Model } from 'objection';

/** What a notification tells its receiver; the values are the reference's. */
export const NotificationType = {
  UPDATE_ROUND_START: 'UPDATE_ROUND_START',
  SWAG_ROUND_START: 'SWAG_ROUND_START',
  TRAINING_START: 'TRAINING_START',
  TRAINING_FINISHED: 'TRAINING_FINISHED',
  CLIENT_REMOVED: 'CLIENT_REMOVED',
  MODEL_TEST_ROUND: 'MODEL_TEST_ROUND',
} as const;
export type NotificationType = (typeof NotificationType)[keyof typeof NotificationType];

/** How far a notification got: pushed, failed after retries, or waiting for its receiver to pull it. */
export const DeliveryState = { PENDING: 'PENDING', DELIVERED: 'DELIVERED', FAILED: 'FAILED', PULL: 'PULL' } as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];

/** A message to one user about one training, stored with its delivery state. */
export class Notification extends Model {
  static override tableName = 'notifications';
  static override jsonAttributes = ['body'];

  id!: string;
  receiverId!: string;
  trainingId!: string;
  type!: NotificationType;
  body!: Record<string, unknown>;
  deliveryState!: DeliveryState;
  attempts!: number;
  lastError!: string | null;
  acknowledged!: boolean;
  createdAt!: Date;
  deliveredAt!: Date | null;
  acknowledgedAt!: Date | null;
}

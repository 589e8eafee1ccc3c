import { Model } from 'objection';
import type { UploadPhase } from './upload';

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

/** The task type that asks for each upload phase. */
export const TASK_TYPE_OF_PHASE: Readonly<Record<UploadPhase, NotificationType>> = {
  update: 'UPDATE_ROUND_START',
  test: 'MODEL_TEST_ROUND',
  swag: 'SWAG_ROUND_START',
};

/** The notification types that ask their receiver to act: tasks, pending until done. */
export const TASK_TYPES: readonly NotificationType[] = Object.values(TASK_TYPE_OF_PHASE);

/** A task is pending until it is done; messages (start, finish, client removed) have no task state. */
export type TaskState = 'PENDING' | 'DONE';

/**
 * Why a task is done: its upload arrived, its receiver declined it, its wait ended without it, its receiver was
 * removed, or the training ended (finished, failed) while it was pending.
 */
export const DONE_REASONS = ['uploaded', 'declined', 'deadline', 'removed', 'ended'] as const;
export type DoneReason = (typeof DONE_REASONS)[number];

/**
 * A message to one user about one training, stored with its delivery state; a task when it asks its receiver to act
 * (docs/api.md#tasks).
 */
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
  /** The integer id clients see (a sequence): tasks and messages alike. */
  taskId!: string;
  round!: number | null;
  deadline!: Date | null;
  taskState!: TaskState | null;
  doneReason!: DoneReason | null;
  doneMessage!: string | null;
}

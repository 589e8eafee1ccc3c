import type { Knex } from 'knex';
import {
  type DoneReason,
  Notification,
  type NotificationType,
  TASK_TYPE_OF_PHASE,
  TASK_TYPES,
} from '../models/notification';
import type { UploadPhase } from '../models/upload';
import type { RoundRange } from './rounds';

/** The upload phase a task asks for. */
export function phaseOfTask(type: NotificationType): UploadPhase | undefined {
  return (Object.keys(TASK_TYPE_OF_PHASE) as UploadPhase[]).find((phase) => TASK_TYPE_OF_PHASE[phase] === type);
}

/** One receiver's task of one wait: the training, the round and the upload phase it asks for. */
export interface TaskKey {
  trainingId: string;
  receiverId: string;
  round: number;
  phase: UploadPhase;
}

/** The most rows one long-poll answers with; older ones come first, the rest on the next poll. */
export const OPEN_TASKS_LIMIT = 100;

/** The receiver's pending tasks and unacknowledged messages, oldest first. */
export async function listOpenTasks(db: Knex, receiverId: string): Promise<Notification[]> {
  return await Notification.query(db)
    .where({ receiverId, acknowledged: false })
    .where((q) => {
      void q.whereNull('taskState').orWhere('taskState', 'PENDING');
    })
    .orderBy('taskId')
    .limit(OPEN_TASKS_LIMIT);
}

/** One of the receiver's tasks or messages by its integer id. */
export async function findTaskOfReceiver(
  db: Knex,
  receiverId: string,
  taskId: number,
): Promise<Notification | undefined> {
  return await Notification.query(db).findOne({ receiverId, taskId });
}

/** The receiver's oldest pending task (work: never a start or finish message, which have no task state). */
export async function findOldestPendingTask(db: Knex, receiverId: string): Promise<Notification | undefined> {
  return await Notification.query(db).where({ receiverId, taskState: 'PENDING' }).orderBy('taskId').first();
}

/** Hides a task or message from its receiver's list (an ack is not a decline); acknowledging twice changes nothing. */
export async function acknowledgeTask(db: Knex, receiverId: string, taskId: number): Promise<Notification | undefined> {
  await Notification.query(db)
    .where({ receiverId, taskId, acknowledged: false })
    .patch({ acknowledged: true, acknowledgedAt: new Date() });
  return await findTaskOfReceiver(db, receiverId, taskId);
}

/** The receiver's newest task of `round` in the training, whatever its state. */
export async function findTaskOfRound(
  db: Knex,
  trainingId: string,
  receiverId: string,
  round: number,
): Promise<Notification | undefined> {
  return await Notification.query(db)
    .where({ trainingId, receiverId, round })
    .whereIn('type', TASK_TYPES)
    .orderBy('taskId', 'desc')
    .first();
}

/** Marks one pending task done (its upload arrived, or its receiver declined it); a done task stays as it is. */
export async function completeTask(db: Knex, key: TaskKey, reason: DoneReason, message?: string): Promise<void> {
  await Notification.query(db)
    .where({
      trainingId: key.trainingId,
      receiverId: key.receiverId,
      round: key.round,
      type: TASK_TYPE_OF_PHASE[key.phase],
      taskState: 'PENDING',
    })
    .patch({ taskState: 'DONE', doneReason: reason, doneMessage: reason === 'declined' ? (message ?? '') : null });
}

/** How a wait ended, as the workflow saw it. */
export interface WaitOutcome {
  trainingId: string;
  round: number;
  type: NotificationType;
  received: readonly string[];
  declined: Readonly<Record<string, string>>;
  participants: readonly string[];
}

/**
 * Marks every task of a wait done with the reason the workflow knows (it is the judge: an upload the API stored but
 * the run did not take does not count), in one statement: uploaded, declined (with its message), removed (no longer
 * a participant), or deadline.
 */
export async function closeWaitTasks(db: Knex, outcome: WaitOutcome): Promise<void> {
  const received = uuidArray(outcome.received);
  const declined = uuidArray(Object.keys(outcome.declined));
  await db.raw(
    `UPDATE notifications SET task_state = 'DONE',
       done_reason = CASE
         WHEN receiver_id = ANY(?::uuid[]) THEN 'uploaded'
         WHEN receiver_id = ANY(?::uuid[]) THEN 'declined'
         WHEN NOT receiver_id = ANY(?::uuid[]) THEN 'removed'
         ELSE 'deadline' END,
       done_message = CASE WHEN receiver_id = ANY(?::uuid[]) AND NOT receiver_id = ANY(?::uuid[])
         THEN ?::jsonb ->> receiver_id::text END
     WHERE training_id = ? AND round = ? AND type = ?`,
    [
      received,
      declined,
      uuidArray(outcome.participants),
      declined,
      received,
      JSON.stringify(outcome.declined),
      outcome.trainingId,
      outcome.round,
      outcome.type,
    ],
  );
}

/** A Postgres array literal of ids (knex would spread a JS array binding into a list). */
function uuidArray(ids: readonly string[]): string {
  return `{${ids.join(',')}}`;
}

/** Marks every pending task of a training done because the training ended (finished or failed). */
export async function endPendingTasks(db: Knex, trainingId: string): Promise<void> {
  await Notification.query(db)
    .where({ trainingId, taskState: 'PENDING' })
    .patch({ taskState: 'DONE', doneReason: 'ended', doneMessage: null });
}

/** A training's tasks in the order they were made (for the rounds view); only those of `rounds` when given. */
export async function listTasksOfTraining(db: Knex, trainingId: string, rounds?: RoundRange): Promise<Notification[]> {
  const query = Notification.query(db).where({ trainingId }).whereIn('type', TASK_TYPES).orderBy('taskId');
  return await (rounds === undefined ? query : query.whereBetween('round', [rounds.from, rounds.to]));
}

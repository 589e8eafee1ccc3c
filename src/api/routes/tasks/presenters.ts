import type { Notification } from '../../../db/models/notification';
import type { TaskResponse } from './schemas';

/** A stored notification as its receiver reads it: the fields a push carries, and its task state. */
export function presentTask(task: Notification): TaskResponse {
  return {
    id: Number(task.taskId),
    notification_type: task.type,
    training_uuid: task.trainingId,
    body: task.body,
    round: task.round,
    deadline: task.deadline ? task.deadline.toISOString() : null,
    state: task.taskState,
    done_reason: task.doneReason,
    acknowledged: task.acknowledged,
    created_at: task.createdAt.toISOString(),
  };
}

import { z } from 'zod';
import { DONE_REASONS, TASK_TYPES } from '../../../db/models/notification';

/** The longest a long-poll waits, in seconds. */
export const MAX_WAIT_SECONDS = 60;

/** `GET /api/users/myself/tasks/?wait=S`: seconds to wait for a task when there is none (0 to 60; 0 answers at once). */
export const tasksQuery = z.object({
  wait: z
    .string()
    .regex(/^\d{1,2}$/, `Must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}.`)
    .transform(Number)
    .refine(
      (seconds) => seconds <= MAX_WAIT_SECONDS,
      `Must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}.`,
    )
    .optional(),
});

/** `/api/users/myself/tasks/{id}/`: a task's integer id. */
export const taskParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,18}$/, 'Task ids are positive integers.')
    .transform(Number),
});

/** A task or message as a client reads it: the pushed fields, then what makes it a task. */
export const taskResponse = z.object({
  id: z.number().int(),
  notification_type: z.string(),
  training_uuid: z.uuid(),
  body: z.record(z.string(), z.unknown()),
  round: z.number().int().nullable(),
  deadline: z.string().nullable(),
  /** `null` for a message (start, finish, client removed), which is never work. */
  state: z.enum(['PENDING', 'DONE']).nullable(),
  done_reason: z.enum(DONE_REASONS).nullable(),
  acknowledged: z.boolean(),
  created_at: z.string(),
});
export type TaskResponse = z.infer<typeof taskResponse>;

/** The task types, for the documentation. */
export const TASK_TYPE_NAMES = TASK_TYPES.join(', ');

import type { Knex } from 'knex';
import type { Notification } from '../../db/models/notification';
import type { User } from '../../db/models/user';
import { completeTask, findTaskOfRound, phaseOfTask } from '../../db/queries/tasks';
import { conflict, forbidden, invalidInput } from '../../errors';
import { DECLINE_MESSAGE_MAX } from '../../workflows/training/definitions';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { readableTraining } from './training-access';

/** What declining needs. */
export interface DeclineDeps {
  readonly knex: Knex;
  readonly orchestrator: TrainingOrchestrator;
}

/**
 * `POST /api/trainings/{id}/rounds/{n}/decline/`: the caller will send nothing for its pending task of round n
 * (update, test metrics or SWAG moments). The run leaves it out of that wait at once (an Update, validated there);
 * then the task is done as declined, with the message. Declining a declined task again answers as the first time.
 * @throws 404 for a stranger, 403 for a member who is not a participant, 409 when the task is done already or there
 *   is none, 400 when the message is too long or the run is past that wait.
 */
export async function declineTask(
  deps: DeclineDeps,
  user: User,
  trainingId: string,
  round: number,
  message: string,
): Promise<Notification> {
  const training = await readableTraining(deps.knex, user, trainingId);
  if (!training.participants?.some((p) => p.id === user.id)) {
    throw forbidden(`You are not a participant of training ${training.id}!`);
  }
  if (message.length > DECLINE_MESSAGE_MAX) {
    throw invalidInput(`message: at most ${DECLINE_MESSAGE_MAX} characters, not ${message.length}.`);
  }
  const task = await findTaskOfRound(deps.knex, training.id, user.id, round);
  const phase = task && phaseOfTask(task.type);
  if (!task || !phase) {
    throw conflict(`You have no task in round ${round} of training ${training.id} to decline.`);
  }
  if (task.taskState === 'DONE' && task.doneReason === 'declined') {
    return task;
  }
  if (task.taskState === 'DONE') {
    throw conflict(
      `Your ${task.type} task of round ${round} is done already (${task.doneReason ?? 'done'}); there is nothing to decline.`,
    );
  }
  await deps.orchestrator.decline(training, { clientId: user.id, round, phase, message });
  const key = { trainingId: training.id, receiverId: user.id, round, phase };
  await completeTask(deps.knex, key, 'declined', message);
  return (await findTaskOfRound(deps.knex, training.id, user.id, round)) ?? task;
}

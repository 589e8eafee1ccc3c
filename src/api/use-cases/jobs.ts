import type { Knex } from 'knex';
import type { Notification } from '../../db/models/notification';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { insertMetrics } from '../../db/queries/metrics';
import { findModelById } from '../../db/queries/models';
import { listRounds } from '../../db/queries/rounds';
import { findOldestPendingTask, findTaskOfReceiver, phaseOfTask } from '../../db/queries/tasks';
import type { UploadPhase } from '../../db/models/upload';
import { conflict, notFound } from '../../errors';
import { TrainingState } from '../../training-states';
import { declineTask } from './decline-task';
import { type MetricValueInput, pairMetrics } from './metric-input';
import { type MetricDeps, recordMetrics } from './record-metrics';
import { readableTraining } from './training-access';

/*
 * The seed-004 protocol's jobs (docs/compatibility.md#the-seed-004-job-server-client): a job is one of the caller's
 * tasks, by its integer id. These use cases only find the task and hand over to the REST API's own: declining,
 * recording metrics, reading the training.
 */

/** One of the caller's tasks, with what it asks for and its training. */
export interface Job {
  readonly task: Notification;
  readonly phase: UploadPhase;
  readonly training: Training;
}

/** The id of the caller's oldest pending task, or null when it has none. */
export async function oldestJobId(knex: Knex, user: User): Promise<number | null> {
  const task = await findOldestPendingTask(knex, user.id);
  return task ? Number(task.taskId) : null;
}

/**
 * One of the caller's tasks (a start or finish message is no job) in a training it still reads.
 * @throws 404 for anyone else's task, a message, or an id that does not exist.
 */
export async function findJob(knex: Knex, user: User, id: number): Promise<Job> {
  const task = await findTaskOfReceiver(knex, user.id, id);
  const phase = task && phaseOfTask(task.type);
  if (!task || !phase) {
    throw notFound(`Job ${id} not found.`);
  }
  return { task, phase, training: await readableTraining(knex, user, task.trainingId) };
}

/** The integer id of a job's round (unique across trainings), or null before the round is stored. */
export async function roundIdOfJob(knex: Knex, { task, training }: Job): Promise<number | null> {
  const round = (await listRounds(knex, training.id)).find((r) => r.number === task.round);
  return round ? Number(round.id) : null;
}

/** A job's results: metrics by name, and whether the client's run succeeded. */
export interface JobResults {
  readonly names: readonly string[];
  readonly values: readonly MetricValueInput[];
  /** False declines the task, with `message`. */
  readonly success: boolean;
  readonly message: string;
  /**
   * Whether a pending test-round task takes these as its test metrics: the scores do; a picture does not, so that it
   * cannot fill the round's test slot before the scores arrive.
   */
  readonly testMetrics: boolean;
}

/**
 * Records a job's results for its round. A failed run declines the task (`declineTask`, with its rules). A pending
 * test-round task takes its scores as its test metrics (`recordMetrics`, which fills the test slot). Otherwise, even after
 * the upload closed the task, they are the caller's metrics on the global model at the task's round, accepted while
 * that round is current.
 * @throws 404 as `findJob`, 409 once the round is over, and the refusals of the use cases it hands over to.
 */
export async function recordJobResults(deps: MetricDeps, user: User, id: number, results: JobResults): Promise<void> {
  const job = await findJob(deps.knex, user, id);
  const { task, phase, training } = job;
  const round = task.round ?? 0;
  if (!results.success) {
    await declineTask(deps, user, training.id, round, results.message);
    return;
  }
  if (results.testMetrics && phase === 'test' && task.taskState === 'PENDING') {
    await recordMetrics(deps, user, training.modelId, results.names, results.values);
    return;
  }
  const metrics = pairMetrics(results.names, results.values, { required: true, maxValueBytes: deps.maxMetricBytes });
  const model = await findModelById(deps.knex, training.modelId);
  if (!model || !isRunning(training) || model.round !== round) {
    throw conflict(`Round ${round} of training ${training.id} is over: job ${id} takes no more results.`);
  }
  const target = { modelId: model.id, trainingId: training.id, step: round, reporterId: user.id };
  await insertMetrics(deps.knex, target, metrics);
}

function isRunning(training: Training): boolean {
  return training.state === TrainingState.ONGOING || training.state === TrainingState.SWAG_ROUND;
}

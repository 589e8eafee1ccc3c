import type { Knex } from 'knex';
import type { Evaluation } from '../../db/models/evaluation';
import { Metric } from '../../db/models/metric';
import { listEvaluations } from '../../db/queries/evaluations';
import type { Notification } from '../../db/models/notification';
import type { Round } from '../../db/models/round';
import type { Training } from '../../db/models/training';
import { Upload } from '../../db/models/upload';
import type { User } from '../../db/models/user';
import { findModelById, listVersions } from '../../db/queries/models';
import { listRounds, type RoundRange } from '../../db/queries/rounds';
import { listTasksOfTraining, phaseOfTask } from '../../db/queries/tasks';
import { listUploadsOfTraining } from '../../db/queries/uploads';
import { notFound } from '../../errors';
import { TrainingState } from '../../training-states';
import type {
  ClientMetric,
  FollowingWait,
  LeftOut,
  MetricAggregate,
  RoundView,
} from '../routes/trainings/round-schemas';
import { INT32_MAX } from '../routes/common-schemas';
import { readableTraining } from './training-access';

/** Everything a training's rounds are read from. */
export interface RoundSources {
  training: Training;
  rounds: readonly Round[];
  tasks: readonly Notification[];
  uploads: readonly Upload[];
  /** Float metrics of the training's uploads, and the server's (no reporter) on its global model. */
  metrics: readonly Metric[];
  /** Rounds of the global model that have a version. */
  versions: ReadonlySet<number>;
  /** The server's evaluations of the training's versions. */
  evaluations: readonly Evaluation[];
}

/** Items grouped under a key, each group in the items' order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) {
      const group = groups.get(key);
      if (group) {
        group.push(item);
      } else {
        groups.set(key, [item]);
      }
    }
  }
  return groups;
}

/**
 * The rounds of a training as `viewer` may see them: the actor and the model's owner see every client; a
 * participant sees the aggregates and its own entries, not other clients' identities or values. The sources are
 * grouped by round once, so the view of a training costs time in proportion to its rows, not to its rounds times its
 * rows (a thousand clients over a hundred rounds, read every second by the dashboard's live view).
 */
export function buildRoundViews(sources: RoundSources, viewer: { id: string; seesEveryone: boolean }): RoundView[] {
  const mine = (client: string): boolean => viewer.seesEveryone || client === viewer.id;
  const tasks = groupBy(sources.tasks, (t) => `${t.type} ${t.round}`);
  const uploads = groupBy(sources.uploads, (u) => `${u.phase} ${u.round}`);
  const uploadById = new Map(sources.uploads.map((u) => [u.id, u]));
  // A client's figures by the phase and round of their upload; the server's (no upload) by the step they describe.
  const uploadMetrics = groupBy(sources.metrics, (m) => {
    const owner = m.uploadId === null ? undefined : uploadById.get(m.uploadId);
    return owner && m.valueFloat !== null ? `${owner.phase} ${owner.round}` : undefined;
  });
  const serverMetrics = groupBy(sources.metrics, (m) =>
    m.uploadId === null && m.reporterId === null && m.step !== null ? String(m.step) : undefined,
  );
  const failedEvaluations = groupBy(sources.evaluations, (e) => (e.state === 'failed' ? String(e.round) : undefined));
  const none: never[] = [];
  return sources.rounds.map((round) => {
    const n = round.number;
    const updateTasks = tasks.get(`UPDATE_ROUND_START ${n}`) ?? none;
    const testTasks = tasks.get(`MODEL_TEST_ROUND ${n + 1}`) ?? none;
    const swagTasks = tasks.get(`SWAG_ROUND_START ${n + 1}`) ?? none;
    const updates = uploads.get(`update ${n}`) ?? none;
    const tests = uploads.get(`test ${n + 1}`) ?? none;
    const produced = sources.versions.has(n + 1) ? n + 1 : null;
    const weights = new Map(updates.map((u) => [u.clientId, u.sampleSize]));
    const testMetrics = uploadMetrics.get(`test ${n + 1}`) ?? none;
    const updateMetrics = uploadMetrics.get(`update ${n}`) ?? none;
    const clientMetrics: ClientMetric[] = [
      ...updateMetrics.map((m) => ({ m, phase: 'update' as const })),
      ...testMetrics.map((m) => ({ m, phase: 'test' as const })),
    ].flatMap(({ m, phase }) =>
      // A reporter deleted since (SET NULL) keeps counting in the aggregates, but has no entry of its own.
      m.reporterId !== null && mine(m.reporterId)
        ? [{ client: m.reporterId, phase, name: m.key, value: m.valueFloat ?? 0 }]
        : [],
    );
    const serverFigures = (step: number | null) =>
      Object.fromEntries(
        (step === null ? none : (serverMetrics.get(String(step)) ?? none)).map((m) => [m.key, m.valueFloat ?? 0]),
      );
    const failed = [
      ...(failedEvaluations.get(String(n)) ?? none),
      ...(produced === null ? none : (failedEvaluations.get(String(produced)) ?? none)),
    ];
    return {
      round_id: Number(round.id),
      training: sources.training.id,
      round: n,
      state: roundState(sources.training, updateTasks, [...testTasks, ...swagTasks], produced),
      started_at: round.startedAt.toISOString(),
      deadline: round.deadline ? round.deadline.toISOString() : null,
      started_from: n,
      produced,
      asked: updateTasks.length,
      update_count: updates.length,
      sample_size_total: updates.reduce((sum, u) => sum + (u.sampleSize ?? 0), 0),
      updates: updates
        .filter((u) => mine(u.clientId))
        .map((u) => ({ client: u.clientId, sample_size: u.sampleSize, received_at: u.createdAt.toISOString() })),
      left_out: [...updateTasks, ...testTasks, ...swagTasks].flatMap((task) => leftOut(task, mine)),
      test: followingWait(testTasks, tests.length, n + 1),
      swag: followingWait(swagTasks, (uploads.get(`swag ${n + 1}`) ?? none).length, n + 1),
      metrics: aggregate(testMetrics, weights),
      update_metrics: aggregate(updateMetrics, weights),
      client_metrics: clientMetrics,
      server_metrics: serverFigures(produced),
      server_metrics_started_from: serverFigures(n),
      evaluation_errors: Object.fromEntries(failed.map((e) => [String(e.round), e.error ?? ''])),
    };
  });
}

function roundState(
  training: Training,
  updateTasks: readonly Notification[],
  laterTasks: readonly Notification[],
  produced: number | null,
): RoundView['state'] {
  if (updateTasks.some((t) => t.taskState === 'PENDING')) {
    return 'UPDATE';
  }
  if (produced === null) {
    return training.state === TrainingState.ERROR ? 'FAILED' : 'AGGREGATING';
  }
  const pending = laterTasks.find((t) => t.taskState === 'PENDING');
  if (pending) {
    return pending.type === 'SWAG_ROUND_START' ? 'SWAG' : 'TEST';
  }
  return 'DONE';
}

function leftOut(task: Notification, mine: (client: string) => boolean): LeftOut[] {
  const phase = phaseOfTask(task.type);
  const reason = task.doneReason;
  if (!phase || !mine(task.receiverId) || reason === null || reason === 'uploaded') {
    return [];
  }
  return [{ client: task.receiverId, phase, reason, message: task.doneMessage }];
}

function followingWait(tasks: readonly Notification[], reported: number, round: number): FollowingWait | null {
  if (tasks.length === 0) {
    return null;
  }
  const deadline = tasks.find((t) => t.deadline)?.deadline;
  return { round, deadline: deadline ? deadline.toISOString() : null, reported };
}

/** Per metric name: the mean weighted by each reporter's update sample size (unweighted when one has none). */
export function aggregate(
  metrics: readonly Metric[],
  weights: ReadonlyMap<string, number | null>,
): Record<string, MetricAggregate> {
  return Object.fromEntries(
    [...groupBy(metrics, (m) => m.key)].map(([name, list]) => {
      const values = list.map((m) => m.valueFloat ?? 0);
      const sizes = list.map((m) => weights.get(m.reporterId ?? '') ?? null);
      const weighted = sizes.every((size) => size !== null && size > 0);
      const w = weighted ? (sizes as number[]) : values.map(() => 1);
      const total = w.reduce((sum, x) => sum + x, 0);
      const mean = values.reduce((sum, v, i) => sum + v * (w[i] ?? 0), 0) / total;
      // Not Math.min(...values): a spread of many thousands of arguments can overflow the stack.
      const min = values.reduce((low, v) => Math.min(low, v), Infinity);
      const max = values.reduce((high, v) => Math.max(high, v), -Infinity);
      return [name, { mean, min, max, count: values.length, weighted }];
    }),
  );
}

/**
 * A training's rounds for `user` (its actor, the model's owner, or a participant); only those of `range` when given.
 * @throws 404 for anyone else.
 */
export async function listRoundViews(
  knex: Knex,
  user: User,
  trainingId: string,
  range?: RoundRange,
): Promise<RoundView[]> {
  const training = await readableTraining(knex, user, trainingId);
  const model = await findModelById(knex, training.modelId);
  // A range of rounds reads only its own rows and the wait that follows its last round (round n + 1), not the
  // whole training's; round numbers are int4 columns.
  const scope = range === undefined ? undefined : { from: range.from, to: Math.min(range.to + 1, INT32_MAX) };
  const [rounds, tasks, uploads, versions, evaluations, metrics] = await Promise.all([
    listRounds(knex, training.id, range),
    listTasksOfTraining(knex, training.id, scope),
    listUploadsOfTraining(knex, training.id, scope),
    listVersions(knex, training.modelId),
    listEvaluations(knex, training.id),
    Metric.query(knex)
      .whereNotNull('valueFloat')
      .where((q) => {
        void q
          .where((own) => {
            void own.where({ trainingId: training.id }).whereNotNull('uploadId');
            if (scope) {
              void own.whereIn(
                'uploadId',
                Upload.query(knex)
                  .select('id')
                  .whereBetween('round', [scope.from, scope.to])
                  .where({ trainingId: training.id }),
              );
            }
          })
          .orWhere((server) => {
            void server.where({ modelId: training.modelId }).whereNull('reporterId').whereNull('uploadId');
            if (scope) {
              void server.whereBetween('step', [scope.from, scope.to]);
            }
          });
      }),
  ]);
  const seesEveryone = training.actorId === user.id || model?.ownerId === user.id || user.isSuperuser;
  return buildRoundViews(
    { training, rounds, tasks, uploads, metrics, evaluations, versions: new Set(versions.map((v) => v.round)) },
    { id: user.id, seesEveryone },
  );
}

/** One round of a training by its number. @throws 404 when the training has no such round. */
export async function findRoundView(knex: Knex, user: User, trainingId: string, round: number): Promise<RoundView> {
  const [found] = await listRoundViews(knex, user, trainingId, { from: round, to: round });
  if (!found) {
    throw notFound(`Training ${trainingId} has no round ${round}.`);
  }
  return found;
}

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { FlModel } from '../../db/models/model';
import type { Training } from '../../db/models/training';
import type { User } from '../../db/models/user';
import { listLatestServerMetrics, type LatestServerMetric } from '../../db/queries/metrics';
import { findModelsByIds, listVersions } from '../../db/queries/models';
import { listTrainingsOfUser } from '../../db/queries/trainings';
import { notFound } from '../../errors';
import type { DashboardSettings } from '../services';
import type { TrainingLive, TrainingSummary } from '../routes/dashboard/schemas';
import { trainingWorkflowId } from '../../workflows/training/definitions';
import type { RoundView } from '../routes/trainings/round-schemas';
import { INT32_MAX } from '../routes/common-schemas';
import { settledRounds } from '../../settled-rounds';
import { listRoundViews } from './round-view';
import { readableTraining } from './training-access';

/** How often a waiting `liveTraining` reads the training again. */
export const LIVE_POLL_MS = 1000;

/** The caller's trainings, as its actor or a participant, oldest first, each with its figures. */
export async function listTrainingSummaries(
  knex: Knex,
  settings: DashboardSettings,
  user: User,
): Promise<TrainingSummary[]> {
  const trainings = await listTrainingsOfUser(knex, user.id);
  const modelIds = trainings.map((t) => t.modelId);
  const [models, metrics] = await Promise.all([
    findModelsByIds(knex, modelIds),
    listLatestServerMetrics(knex, modelIds),
  ]);
  const byId = new Map(models.map((m) => [m.id, m]));
  return trainings.flatMap((training) => {
    const model = byId.get(training.modelId);
    return model ? [summarize(training, model, metrics, settings, user)] : [];
  });
}

/**
 * One training as the dashboard shows it. With `since` (a version the caller holds) and `waitMs`, waits until the
 * training differs from that version, the wait ends or `signal` aborts (the caller left), reading it every
 * `LIVE_POLL_MS`; then answers the training as it stands.
 * @throws 404 when the caller is neither its actor nor a participant.
 */
export async function liveTraining(
  knex: Knex,
  settings: DashboardSettings,
  user: User,
  id: string,
  wait: { since?: string; waitMs: number; signal: AbortSignal },
): Promise<TrainingLive> {
  const deadline = Date.now() + wait.waitMs;
  let read = await readLive(knex, settings, user, id, []);
  while (read.view.version === wait.since && Date.now() < deadline && !wait.signal.aborted) {
    const pause = Math.min(LIVE_POLL_MS, deadline - Date.now());
    // Resolves early, and without throwing, when the caller leaves: there is no one left to answer then.
    await sleep(pause, undefined, { signal: wait.signal }).catch(() => undefined);
    read = await readLive(knex, settings, user, id, read.settled);
  }
  return read.view;
}

/**
 * The training as it stands, and its rounds 0 … n − 1 that are settled. `settled`: such rounds from an earlier read
 * of this wait, which are not read again: a waiting viewer reads only the rounds after them each second, not a long
 * training's whole list (a hundred rounds of a thousand clients is some 100,000 entries).
 */
async function readLive(
  knex: Knex,
  settings: DashboardSettings,
  user: User,
  id: string,
  settled: readonly RoundView[],
): Promise<{ view: TrainingLive; settled: readonly RoundView[] }> {
  const training = await readableTraining(knex, user, id);
  const later = settled.length === 0 ? undefined : { from: settled.length, to: INT32_MAX };
  const [models, metrics, newer, versions] = await Promise.all([
    findModelsByIds(knex, [training.modelId]),
    listLatestServerMetrics(knex, [training.modelId]),
    listRoundViews(knex, user, training.id, later),
    listVersions(knex, training.modelId),
  ]);
  const model = models[0];
  if (!model) {
    // Deleting a model deletes its training: only a deletion between the two reads gets here.
    throw notFound(`Training ${id} not found.`);
  }
  const rounds = [...settled, ...newer];
  const summary = summarize(training, model, metrics, settings, user);
  const seesEveryone = training.actorId === user.id;
  const content = {
    training: summary,
    clients: (training.participants ?? [])
      .filter((p) => seesEveryone || p.id === user.id)
      .map((p) => ({ id: p.id, username: p.username })),
    rounds,
    versions: versions.map((v) => ({
      round: v.round,
      created_at: v.createdAt.toISOString(),
      size: Number(v.weightsSize),
      download_url: `/api/models/${training.modelId}/?round=${v.round}`,
    })),
  };
  const version = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
  return { view: { version, ...content }, settled: settledRounds(training, rounds) };
}

function summarize(
  training: Training,
  model: FlModel,
  metrics: readonly LatestServerMetric[],
  settings: DashboardSettings,
  user: User,
): TrainingSummary {
  const own = metrics.filter((m) => m.modelId === model.id);
  const last = Math.max(...own.map((m) => m.step));
  const latest = own.filter((m) => m.step === last);
  return {
    id: training.id,
    state: training.state,
    aggregation_method: training.aggregationMethod,
    uncertainty_method: training.uncertaintyMethod,
    target_num_updates: training.targetNumUpdates,
    round: model.round,
    participants: training.participants?.length ?? 0,
    model: { id: model.id, name: model.name },
    role: training.actorId === user.id ? 'actor' : 'participant',
    server_metrics:
      latest.length === 0 ? null : { round: last, values: Object.fromEntries(latest.map((m) => [m.key, m.value])) },
    last_update: training.updatedAt.toISOString(),
    error: training.error,
    workflow_url:
      settings.temporalUiUrl === undefined
        ? null
        : `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/` +
          encodeURIComponent(trainingWorkflowId(training.id)),
  };
}

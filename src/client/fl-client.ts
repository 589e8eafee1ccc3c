import type { MetricValue, RoundhouseClient } from './client';
import { isApiError } from './errors';
import type { FileContent } from './multipart';
import type { PushedNotification, PushReceiver } from './receiver';

/** One piece of work for a client: train for a round, test the global model, or send SWAG moments. */
export interface FlTask {
  readonly type: 'UPDATE_ROUND_START' | 'MODEL_TEST_ROUND' | 'SWAG_ROUND_START';
  readonly trainingId: string;
  readonly round: number;
  /** The global model: updates and metrics go to it. */
  readonly globalModelId: string;
  /** The model to start from: the global model, or (FedDC) another participant's update. */
  readonly modelId: string;
}

/** What a client's training of one round produced. */
export interface TrainResult {
  /** The updated model (ONNX, or a PyTorch archive as the global model is). */
  readonly weights: FileContent;
  readonly sampleSize: number;
  readonly metrics?: Readonly<Record<string, MetricValue>>;
}

/** What happened, for logs and live views. */
export type FlClientEvent =
  | { readonly kind: 'task'; readonly task: FlTask }
  | { readonly kind: 'uploaded'; readonly task: FlTask }
  | { readonly kind: 'declined'; readonly task: FlTask; readonly reason: string }
  | { readonly kind: 'skipped'; readonly task: FlTask; readonly reason: string }
  | { readonly kind: 'message'; readonly type: string; readonly trainingId: string }
  | { readonly kind: 'error'; readonly error: unknown };

/** Settings of `runFlClient`. */
export interface FlClientOptions {
  readonly client: RoundhouseClient;
  /** Trains the model of a round on the local data. */
  train(model: Buffer, task: FlTask): Promise<TrainResult>;
  /** Tests a new global model on the local data; without it, test rounds are declined. */
  evaluate?(model: Buffer, task: FlTask): Promise<Readonly<Record<string, MetricValue>>>;
  /** SWAG moments of the global model (safetensors keyed by tensor name); without it, SWAG rounds are declined. */
  swag?(model: Buffer, task: FlTask): Promise<{ first: FileContent; second: FileContent; sampleSize: number }>;
  /** Pushes to react to besides the tasks it pulls; without it the client only pulls. */
  readonly receiver?: PushReceiver;
  /** Only these trainings (default: every training the user takes part in). */
  readonly trainings?: readonly string[];
  /** Return once every training in `trainings` has finished (default true when `trainings` is given). */
  readonly untilFinished?: boolean;
  /** Seconds each task poll may wait (default 30). */
  readonly pollSeconds?: number;
  readonly signal?: AbortSignal;
  onEvent?(event: FlClientEvent): void;
}

const FINISHED = new Set(['TRAINING_FINISHED', 'CLIENT_REMOVED']);
const WORK = new Set(['UPDATE_ROUND_START', 'MODEL_TEST_ROUND', 'SWAG_ROUND_START']);

/**
 * The FL client loop: it long-polls the user's tasks (and, with a receiver, reacts to pushes at once), and for each
 * round downloads the model, calls `train` and uploads the update; for each test round calls `evaluate` and uploads
 * the metrics. Work is done once per (training, type, round) whichever way it arrived; a task the server no longer
 * wants (its round moved on) is skipped, not fatal. Returns when `signal` aborts or, with `untilFinished`, when
 * every followed training has finished.
 */
export async function runFlClient(options: FlClientOptions): Promise<void> {
  const follow = options.trainings === undefined ? undefined : new Set(options.trainings);
  const untilFinished = options.untilFinished ?? follow !== undefined;
  const finished = new Set<string>();
  const started = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const emit = (event: FlClientEvent): void => options.onEvent?.(event);
  let wake: (() => void) | undefined;

  const done = (): boolean =>
    options.signal?.aborted === true ||
    (untilFinished && follow !== undefined && [...follow].every((id) => finished.has(id)));

  const take = (type: string, trainingId: string, body: Readonly<Record<string, unknown>>): void => {
    if (follow !== undefined && !follow.has(trainingId)) {
      return;
    }
    if (FINISHED.has(type)) {
      finished.add(trainingId);
      emit({ kind: 'message', type, trainingId });
      wake?.();
      return;
    }
    const task = taskOf(type, trainingId, body);
    if (task === undefined) {
      if (!WORK.has(type)) {
        emit({ kind: 'message', type, trainingId });
      }
      return;
    }
    const key = `${task.trainingId}/${task.type}/${task.round}`;
    if (started.has(key)) {
      return;
    }
    started.add(key);
    const work = handle(options, task, emit)
      .then((outcome) => {
        // A task that failed (the server unreachable past the retries, a training error) is tried again when a
        // later poll still lists it as pending.
        if (outcome === 'failed') {
          started.delete(key);
        }
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  };

  const onPush = (notification: PushedNotification): void => {
    take(notification.notification_type, notification.training_uuid, notification.body);
  };
  options.receiver?.onNotification(onPush);

  while (!done()) {
    try {
      const waitSeconds = options.pollSeconds ?? 30;
      const tasks = await pollUntilWoken(options, waitSeconds, (resolve) => (wake = resolve));
      for (const task of tasks) {
        take(task.notification_type, task.training_uuid, task.body);
        const followed = follow === undefined || follow.has(task.training_uuid);
        if (followed && task.state === null && !task.acknowledged) {
          // A message (start, finish, removal) is read once: acknowledged so the next poll does not repeat it.
          await options.client.tasks.ack(task.id).catch((error: unknown) => emit({ kind: 'error', error }));
        }
      }
    } catch (error) {
      if (options.signal?.aborted === true) {
        break;
      }
      emit({ kind: 'error', error });
      await sleep(1000, options.signal);
    }
  }
  await Promise.allSettled([...inFlight]);
}

/** One poll of the tasks, cut short (answering none) when a push says a training finished. */
async function pollUntilWoken(options: FlClientOptions, waitSeconds: number, onWake: (resolve: () => void) => void) {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  options.signal?.addEventListener('abort', abort);
  onWake(abort);
  try {
    return await options.client.tasks.list({ wait: waitSeconds, signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) {
      return [];
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

/** Does one task: download, train or test, upload; a task the server no longer wants is skipped. */
async function handle(
  options: FlClientOptions,
  task: FlTask,
  emit: (event: FlClientEvent) => void,
): Promise<'done' | 'failed'> {
  emit({ kind: 'task', task });
  const { client } = options;
  try {
    if (task.type === 'UPDATE_ROUND_START') {
      const model = await client.models.download(task.modelId);
      const result = await options.train(model, task);
      await client.models.uploadUpdate(task.globalModelId, {
        file: result.weights,
        round: task.round,
        sampleSize: result.sampleSize,
        ...(result.metrics === undefined ? {} : { metrics: result.metrics }),
      });
    } else if (task.type === 'MODEL_TEST_ROUND') {
      if (options.evaluate === undefined) {
        await declineTask(options, task, emit, 'this client does not test');
        return 'done';
      }
      const metrics = await options.evaluate(await client.models.download(task.globalModelId), task);
      await client.models.uploadMetrics(task.globalModelId, metrics);
    } else {
      if (options.swag === undefined) {
        await declineTask(options, task, emit, 'this client computes no SWAG moments');
        return 'done';
      }
      const moments = await options.swag(await client.models.download(task.globalModelId), task);
      await client.models.uploadSwag(task.globalModelId, { round: task.round, ...moments });
    }
    emit({ kind: 'uploaded', task });
    return 'done';
  } catch (error) {
    // 400 wrong round or phase, 409 a filled or declined slot, 403 removed: the round went on without this client.
    if (isApiError(error) && [400, 403, 409].includes(error.status)) {
      emit({ kind: 'skipped', task, reason: error.detail });
      return 'done';
    }
    emit({ kind: 'error', error });
    return 'failed';
  }
}

async function declineTask(
  options: FlClientOptions,
  task: FlTask,
  emit: (event: FlClientEvent) => void,
  reason: string,
): Promise<void> {
  await options.client.trainings.decline(task.trainingId, task.round, reason);
  emit({ kind: 'declined', task, reason });
}

/** The work a task or push describes, or undefined for a message. */
function taskOf(type: string, trainingId: string, body: Readonly<Record<string, unknown>>): FlTask | undefined {
  const round = body.round;
  const globalModelId = body.global_model_uuid;
  if (!WORK.has(type) || typeof round !== 'number' || typeof globalModelId !== 'string') {
    return undefined;
  }
  const modelId = typeof body.model_uuid === 'string' ? body.model_uuid : globalModelId;
  return { type: type as FlTask['type'], trainingId, round, globalModelId, modelId };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

import { type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';

/** Where the worker polls and what it runs. */
export interface WorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per file); otherwise the worker bundles `src/workflows` at start. */
  workflowBundle?: WorkflowBundle;
}

/** Creates a worker polling the task queue with every workflow of `src/workflows` and the activities over `deps`. */
export async function createWorker(settings: WorkerSettings, deps: ActivityDeps): Promise<Worker> {
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(settings.workflowBundle ? { workflowBundle: settings.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities(deps),
  });
}

/**
 * Creates a worker for the heavy activities alone (aggregations, evaluations) on their task queue, running at most
 * `concurrency` at once: each holds about a model's float64 in memory. No workflows: adding these workers adds
 * aggregation capacity, which workflow workers cannot (they run their own workflows' activities first).
 */
export async function createAggregationWorker(
  settings: Omit<WorkerSettings, 'workflowBundle'> & { concurrency: number },
  deps: ActivityDeps,
): Promise<Worker> {
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: settings.concurrency,
  });
}

/** The bundle entry, next to this file in `src` (ts) or `dist` (js). */
export function workflowsPath(): string {
  return require.resolve('./workflows');
}

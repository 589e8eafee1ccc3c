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

/** The bundle entry, next to this file in `src` (ts) or `dist` (js). */
export function workflowsPath(): string {
  return require.resolve('./workflows');
}

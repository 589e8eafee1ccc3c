import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TrainingActivities } from '../../src/activities/training-activity-types';
import { trainingWorkflowId } from '../../src/workflows/training/definitions';
import { trainingWorkflow } from '../../src/workflows/training/training-workflow';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { fakeActivities, testSettings, upload } from './training-harness';

/** An error as pg throws it when Postgres is not there. */
function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

describe('trainingWorkflow activity retries', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  /** Runs a one-round training whose aggregation behaves as `aggregate` says; resolves with its outcome. */
  async function trainWith(aggregate: (attempt: number) => Promise<void>) {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true });
    const { calls, activities } = fakeActivities(settings);
    let attempts = 0;
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: uniqueTaskQueue('activity-retry'),
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        aggregateRound: async (input: Parameters<TrainingActivities['aggregateRound']>[0]) => {
          attempts += 1;
          await aggregate(attempts);
          return activities.aggregateRound(input);
        },
      },
    });
    const outcome = await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(trainingWorkflow, {
        taskQueue: worker.options.taskQueue,
        workflowId: trainingWorkflowId(settings.trainingId),
        args: [{ trainingId: settings.trainingId }],
      });
      await upload(handle, settings, 0, 'update', settings.participants);
      return handle.result().then(
        (result) => ({ result, failure: undefined }),
        (failure: unknown) => ({ result: undefined, failure }),
      );
    });
    return { ...outcome, calls, attempts };
  }

  it('when the database is out of reach for a while, the activity is tried again until it is back', async () => {
    const { result, calls, attempts } = await trainWith((attempt) =>
      attempt <= 3 ? Promise.reject(connectionRefused()) : Promise.resolve(),
    );
    expect(result).toEqual({ round: 1 });
    expect(attempts).toBe(4);
    expect(calls.states.at(-1)).toEqual({ state: 'C' });
  }, 60_000);

  it('when the activity refuses (a non-retryable failure with our code), the training ends in ERROR at once', async () => {
    const { failure, calls, attempts } = await trainWith(() =>
      Promise.reject(
        ApplicationFailure.nonRetryable('Update of client-a has no tensor "fc1.weight".', 'tensor_missing'),
      ),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(attempts).toBe(1);
    expect(calls.states.at(-1)).toEqual({ state: 'E', error: 'Update of client-a has no tensor "fc1.weight".' });
  });
});

import { Worker } from '@temporalio/worker';
import { createLogger } from '../../src/logger';
import { trainingWorkflowId } from '../../src/workflows/training/definitions';
import { trainingWorkflow } from '../../src/workflows/training/training-workflow';
import { captureLog } from '../support/log-capture';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { whileTemporalLogsTo } from '../support/temporal-log';
import { fakeActivities, testSettings, upload } from './training-harness';

describe('workflow logging', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it("when the training workflow aggregates a round, its log.info('aggregated') is a line of the process log at info, with its fields", async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true });
    const taskQueue = uniqueTaskQueue('workflow-logging');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: fakeActivities(settings).activities,
    });
    const log = captureLog();
    const logger = createLogger('info', { role: 'worker' }, log.destination);
    const aggregated = await whileTemporalLogsTo(logger, () =>
      worker.runUntil(async () => {
        const handle = await temporal.client.workflow.start(trainingWorkflow, {
          taskQueue,
          workflowId: trainingWorkflowId(settings.trainingId),
          args: [{ trainingId: settings.trainingId }],
        });
        await upload(handle, settings, 0, 'update', settings.participants);
        await handle.result();
        // The runtime buffers the lines it forwards for 100 ms.
        return log.next((line) => line.message === 'aggregated');
      }),
    );
    expect(aggregated).toMatchObject({
      level: 'info',
      role: 'worker',
      message: 'aggregated',
      sdkComponent: 'workflow',
      workflowType: 'trainingWorkflow',
      workflowId: trainingWorkflowId(settings.trainingId),
      taskQueue,
      trainingId: settings.trainingId,
      round: 0,
      updates: 3,
    });
  });
});

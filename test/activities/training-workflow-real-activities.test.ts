import { Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../../src/activities';
import type { TrainingActivities } from '../../src/activities/training-activity-types';
import { FlModel } from '../../src/db/models/model';
import { ModelVersion } from '../../src/db/models/model-version';
import { Notification } from '../../src/db/models/notification';
import { Training } from '../../src/db/models/training';
import { createLogger } from '../../src/logger';
import { submitUploadUpdate, trainingWorkflowId, uploadUpdateId } from '../../src/workflows/training/definitions';
import { trainingWorkflow } from '../../src/workflows/training/training-workflow';
import { createTestKnex } from '../support/db';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { waitForStatus } from '../workflows/training-harness';
import { engineAggregate, MLP_CLIENTS, seedMlpTraining, sha256, storeUpdate, tempBlobStore } from './training-fixtures';

describe('trainingWorkflow with the real activities', () => {
  let knex: Knex;
  let store: Awaited<ReturnType<typeof tempBlobStore>>;
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    knex = createTestKnex();
    store = await tempBlobStore();
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
    await knex.destroy();
    await store.remove();
  });

  it('when three pull-only clients upload the MLP updates, the training completes with the engine aggregate as round 1', async () => {
    const { blobs } = store;
    const seeded = await seedMlpTraining(knex, blobs, {
      state: 'I',
      targetNumUpdates: 1,
      options: { skip_model_tests: true, round_timeout: 30 },
    });
    const trainingId = seeded.training.id;
    const activities: TrainingActivities = createActivities({ knex, blobs, logger: createLogger('error') });
    const taskQueue = uniqueTaskQueue('real-activities');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });

    const result = await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(trainingWorkflow, {
        taskQueue,
        workflowId: trainingWorkflowId(trainingId),
        args: [{ trainingId }],
      });
      await waitForStatus(handle, (status) => status.phase === 'UPDATE' && status.round === 0);
      for (const [index, client] of seeded.clients.entries()) {
        const upload = await storeUpdate(knex, blobs, seeded, client, 0, index);
        await handle.executeUpdate(submitUploadUpdate, {
          args: [
            {
              clientId: client.id,
              round: 0,
              phase: 'update',
              uploadId: upload.id,
              sampleSize: MLP_CLIENTS[index]?.sampleSize,
            },
          ],
          updateId: uploadUpdateId(trainingId, 0, client.id, 'update'),
        });
      }
      return await handle.result();
    });

    expect(result).toEqual({ round: 1 });
    const expected = await engineAggregate(
      'FedAvg',
      seeded.clients.map((client) => client.id),
    );
    expect(await Training.query(knex).findById(trainingId)).toMatchObject({ state: 'C', error: null });
    expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 1 });
    const version = await ModelVersion.query(knex).findOne({ modelId: seeded.model.id, round: 1 });
    expect(version?.weightsDigest).toBe(sha256(expected));
    const notifications = await Notification.query(knex).where({ trainingId });
    expect(notifications.map((n) => n.type).sort()).toEqual(
      [
        ...Array<string>(3).fill('TRAINING_START'),
        ...Array<string>(3).fill('UPDATE_ROUND_START'),
        ...Array<string>(4).fill('TRAINING_FINISHED'),
      ].sort(),
    );
    expect(notifications.every((n) => n.deliveryState === 'PULL')).toBe(true);
  });
});

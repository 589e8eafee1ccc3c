import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { finishProbeSignal, probeStateQuery, recordValueSignal } from '../../src/workflows/probe/definitions';
import { probeWorkflow } from '../../src/workflows/probe/probe-workflow';
import { maybeRecordHistory } from '../support/histories';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';

const TRAINING_STATE = defineSearchAttributeKey('TrainingState', SearchAttributeType.KEYWORD);
const TRAINING_ROUND = defineSearchAttributeKey('TrainingRound', SearchAttributeType.INT);

describe('probeWorkflow', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when started, signalled and queried on the dev server, answers its state and returns the values', async () => {
    const taskQueue = uniqueTaskQueue('probe');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    const marker = `probe-${taskQueue}`;
    const result = await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(probeWorkflow, {
        taskQueue,
        workflowId: marker,
        typedSearchAttributes: [
          { key: TRAINING_STATE, value: marker },
          { key: TRAINING_ROUND, value: 7 },
        ],
      });
      await handle.signal(recordValueSignal, 'first');
      await handle.signal(recordValueSignal, 'second');
      await expect(handle.query(probeStateQuery)).resolves.toEqual({ values: ['first', 'second'], finished: false });
      await handle.signal(finishProbeSignal);
      const values = await handle.result();
      await maybeRecordHistory(handle, 'probeWorkflow-signal-query-v1');
      return values;
    });
    expect(result).toEqual(['first', 'second']);

    // The search attributes of temporal.yaml are registered: a list filter on them finds the run.
    const deadline = Date.now() + 10_000;
    let found: string[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      found = [];
      for await (const execution of temporal.client.workflow.list({
        query: `TrainingState = '${marker}' AND TrainingRound > 3`,
      })) {
        found.push(execution.workflowId);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(found).toEqual([marker]);
  });
});

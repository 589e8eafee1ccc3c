import {
  type WorkflowHandleWithFirstExecutionRunId,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import {
  addClientSignal,
  removeClientSignal,
  declineUpdate,
  submitUploadUpdate,
  trainingStatusQuery,
  trainingWorkflowId,
  uploadUpdateId,
  type TrainingSettings,
} from '../../src/workflows/training/definitions';
import { trainingWorkflow } from '../../src/workflows/training/training-workflow';
import { maybeRecordHistory } from '../support/histories';
import { connectTestTemporal, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import {
  type ActivityCalls,
  decline,
  fakeActivities,
  refusalType,
  testSettings,
  upload,
  waitForStatus,
} from './training-harness';

describe('trainingWorkflow', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  /**
   * Runs the workflow on a worker of its own with fake activities while `drive` plays the clients; with
   * RECORD_HISTORIES=1 the first run's history is saved for the replay tests under the scenario's name.
   */
  async function run<T>(
    scenario: string,
    settings: TrainingSettings,
    drive: (handle: WorkflowHandleWithFirstExecutionRunId<typeof trainingWorkflow>) => Promise<T>,
    options: { undeliverable?: Set<string>; failEvaluationOf?: Set<number> } = {},
  ): Promise<{ calls: ActivityCalls; result: T }> {
    const taskQueue = uniqueTaskQueue('training');
    const { calls, activities } = fakeActivities(settings, options.undeliverable, options.failEvaluationOf);
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
        workflowId: trainingWorkflowId(settings.trainingId),
        args: [{ trainingId: settings.trainingId }],
      });
      const outcome = await drive(handle);
      // The first run: with continue-as-new it ends in the hand-over, which replay must cover too.
      const first = temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      await maybeRecordHistory(first, `trainingWorkflow-${scenario}-v1`);
      return outcome;
    });
    return { calls, result };
  }

  it('when every client uploads and tests each round, aggregates twice and completes with the reference notifications', async () => {
    const settings = testSettings();
    const clients = settings.participants;
    const { calls, result } = await run('two-rounds', settings, async (handle) => {
      for (const round of [0, 1]) {
        await upload(handle, settings, round, 'update', [...clients].reverse());
        await upload(handle, settings, round + 1, 'test', clients);
      }
      return { outcome: await handle.result(), firstRunId: handle.firstExecutionRunId };
    });
    expect(result.outcome).toEqual({ round: 2 });
    expect(calls.aggregations).toEqual([
      { round: 0, clients, sampleSizes: [1000, 1000, 1000] },
      { round: 1, clients, sampleSizes: [1000, 1000, 1000] },
    ]);
    expect(calls.notifications.map((n) => [n.type, n.body.round ?? null, n.receivers.length])).toEqual([
      ['TRAINING_START', null, 3],
      ['UPDATE_ROUND_START', 0, 3],
      ['MODEL_TEST_ROUND', 1, 3],
      ['UPDATE_ROUND_START', 1, 3],
      ['MODEL_TEST_ROUND', 2, 3],
      ['TRAINING_FINISHED', null, 4],
    ]);
    expect(calls.notifications[1]?.body).toEqual({ round: 0, global_model_uuid: 'model-1' });
    expect(calls.states).toEqual([{ state: 'O' }, { state: 'C' }]);
    const description = await temporal.client.workflow.getHandle(trainingWorkflowId(settings.trainingId)).describe();
    expect(description.searchAttributes).toMatchObject({
      TrainingState: ['C'],
      TrainingRound: [2],
      TrainingActor: ['actor'],
      AggregationMethod: ['FedAvg'],
    });
    // The Web UI shows what each activity and wait is for (first run: round 0, before the hand-over).
    const history = await temporal.client.workflow
      .getHandle(trainingWorkflowId(settings.trainingId), result.firstRunId)
      .fetchHistory();
    const summaries = (history.events ?? [])
      .map((event) => event.userMetadata?.summary?.data)
      .filter((data): data is Uint8Array => data instanceof Uint8Array)
      .map((data) => JSON.parse(Buffer.from(data).toString('utf8')) as string);
    expect(summaries).toEqual(
      expect.arrayContaining([
        'load the training settings',
        'record state O',
        'TRAINING_START to 3 receiver(s)',
        'UPDATE_ROUND_START to 3 receiver(s)',
        'waiting for model updates, round 0',
        'aggregate round 0 from 3 update(s)',
        'waiting for test metrics, round 1',
      ]),
    );
  });

  it('when an update for the next round comes while its model is tested, holds it (across a continue-as-new) and counts it', async () => {
    const settings = testSettings();
    const { calls, result } = await run('early-update', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', settings.participants);
      await waitForStatus(handle, (s) => s.phase === 'TEST' && s.round === 1);
      const send = (round: number, updateId: string): Promise<unknown> =>
        handle.executeUpdate(submitUploadUpdate, {
          args: [{ clientId: 'client-a', round, phase: 'update', uploadId: updateId, sampleSize: 7 }],
          updateId,
        });
      const early = await send(1, uploadUpdateId(settings.trainingId, 1, 'client-a', 'update'));
      const late = await send(0, 'late').catch((err: unknown) =>
        err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: string }).type : 'other',
      );
      const twice = await send(1, 'again').catch((err: unknown) =>
        err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: string }).type : 'other',
      );
      await upload(handle, settings, 1, 'test', settings.participants);
      await upload(handle, settings, 1, 'update', ['client-b', 'client-c']);
      await upload(handle, settings, 2, 'test', settings.participants);
      return { early, late, twice, outcome: await handle.result() };
    });
    expect(result.early).toMatchObject({ accepted: true, round: 1, phase: 'update', received: 1 });
    expect([result.late, result.twice]).toEqual(['wrong_phase', 'slot_filled']);
    expect(result.outcome).toEqual({ round: 2 });
    expect(calls.aggregations[1]).toEqual({
      round: 1,
      clients: ['client-a', 'client-b', 'client-c'],
      sampleSizes: [7, 1000, 1000],
    });
  });

  it('when model_test_after_each_round is off, tests only the final model', async () => {
    const settings = testSettings({ modelTestAfterEachRound: false });
    const { calls } = await run('test-after-last-round', settings, async (handle) => {
      for (const round of [0, 1]) {
        await upload(handle, settings, round, 'update', settings.participants);
      }
      await upload(handle, settings, 2, 'test', settings.participants);
      return handle.result();
    });
    expect(calls.notifications.map((n) => [n.type, n.body.round ?? null])).toEqual([
      ['TRAINING_START', null],
      ['UPDATE_ROUND_START', 0],
      ['UPDATE_ROUND_START', 1],
      ['MODEL_TEST_ROUND', 2],
      ['TRAINING_FINISHED', null],
    ]);
  });

  it('when an upload names the wrong round, comes from a stranger, or refills a slot, refuses it; an exact retry answers as the first', async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true });
    const { result } = await run('refusals', settings, async (handle) => {
      await waitForStatus(handle, (s) => s.phase === 'UPDATE');
      const send = (clientId: string, round: number, updateId: string): Promise<unknown> =>
        handle.executeUpdate(submitUploadUpdate, {
          args: [{ clientId, round, phase: 'update', uploadId: updateId, sampleSize: 10 }],
          updateId,
        });
      const failures: string[] = [];
      for (const [clientId, round, id] of [
        ['client-a', 3, 'u1'],
        ['stranger', 0, 'u2'],
      ] as const) {
        await send(clientId, round, id).catch((err: unknown) => {
          failures.push(
            err instanceof WorkflowUpdateFailedError ? String((err.cause as { type?: string }).type) : 'other',
          );
        });
      }
      const slotId = uploadUpdateId(settings.trainingId, 0, 'client-a', 'update');
      const first = await send('client-a', 0, slotId);
      const retry = await send('client-a', 0, slotId);
      await send('client-a', 0, 'another-id').catch((err: unknown) => {
        failures.push(
          err instanceof WorkflowUpdateFailedError ? String((err.cause as { type?: string }).type) : 'other',
        );
      });
      await send('client-b', 0, 'b').then(() => send('client-c', 0, 'c'));
      await handle.result();
      return { failures, first, retry };
    });
    expect(result.failures).toEqual(['wrong_round', 'not_participant', 'slot_filled']);
    expect(result.retry).toEqual(result.first);
    expect(result.first).toEqual({ accepted: true, round: 0, phase: 'update', received: 1, expected: 3 });
  });

  it('when a straggler misses the deadline and the quorum is met, aggregates without it and records it as left out', async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true, roundTimeoutMs: 1_500, minClients: 2 });
    const { calls } = await run('straggler', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-b', 'client-a']);
      return handle.result();
    });
    expect(calls.aggregations).toEqual([{ round: 0, clients: ['client-a', 'client-b'], sampleSizes: [1000, 1000] }]);
    expect(calls.states.at(-1)).toEqual({ state: 'C' });
  });

  it('when the uncertainty method is SWAG, runs one SWAG round in state S after the last aggregation and averages who met its deadline', async () => {
    const settings = testSettings({
      targetNumUpdates: 1,
      skipModelTests: true,
      roundTimeoutMs: 1_500,
      minClients: 2,
      uncertaintyMethod: 'SWAG',
    });
    const { calls, result } = await run('swag', settings, async (handle) => {
      await waitForStatus(handle, (s) => s.phase === 'UPDATE');
      const swagFirst = await handle
        .executeUpdate(submitUploadUpdate, {
          args: [{ clientId: 'client-a', round: 0, phase: 'swag', uploadId: 'early-swag', sampleSize: 5 }],
          updateId: 'early-swag',
        })
        .catch((err: unknown) => (err instanceof WorkflowUpdateFailedError ? (err.cause as Error).message : 'other'));
      await upload(handle, settings, 0, 'update', settings.participants);
      const inSwag = await waitForStatus(handle, (s) => s.phase === 'SWAG');
      await upload(handle, settings, 1, 'swag', ['client-b', 'client-a']);
      const outcome = await handle.result();
      return { swagFirst, inSwag, outcome, status: await handle.query(trainingStatusQuery) };
    });
    expect(result.swagFirst).toBe('The training is not waiting for SWAG moments now (phase UPDATE).');
    expect(result.inSwag).toMatchObject({ round: 1, missing: ['client-a', 'client-b', 'client-c'] });
    expect(result.outcome).toEqual({ round: 1 });
    expect(calls.notifications.map((n) => [n.type, n.body.round ?? null])).toEqual([
      ['TRAINING_START', null],
      ['UPDATE_ROUND_START', 0],
      ['SWAG_ROUND_START', 1],
      ['TRAINING_FINISHED', null],
    ]);
    // S is recorded before SWAG_ROUND_START goes out (the API takes moments only in S); client-c straggled.
    expect(calls.states).toEqual([{ state: 'O' }, { state: 'S' }, { state: 'C' }]);
    expect(calls.swag).toEqual([{ round: 1, clients: ['client-a', 'client-b'], sampleSizes: [1000, 1000] }]);
    expect(result.status.leftOut).toEqual({ swag: ['client-c'] });
  });

  it('when the method is FedDC, aggregates every aggregation_period rounds and daisy-chains the updates in between', async () => {
    const settings = testSettings({
      aggregationMethod: 'FedDC',
      daisyChain: { daisyChainPeriod: 1, aggregationPeriod: 2 },
    });
    const clients = settings.participants;
    const { calls, result } = await run('feddc', settings, async (handle) => {
      for (const round of [0, 1, 2, 3]) {
        await upload(handle, settings, round, 'update', clients);
        if (round % 2 === 1) {
          await upload(handle, settings, round + 1, 'test', clients);
        }
      }
      return handle.result();
    });
    // target_num_updates (2) counts aggregations: four rounds, aggregated after the second and the fourth.
    expect(result).toEqual({ round: 4 });
    expect(calls.advanced).toEqual([0, 2]);
    expect(calls.aggregations.map((a) => [a.round, a.clients])).toEqual([
      [1, clients],
      [3, clients],
    ]);
    const roundStarts = calls.notifications.filter((n) => n.type !== 'CLIENT_REMOVED');
    expect(roundStarts.map((n) => [n.type, n.body.round ?? null])).toEqual([
      ['TRAINING_START', null],
      ['UPDATE_ROUND_START', 0],
      ['UPDATE_ROUND_START', 1],
      ['MODEL_TEST_ROUND', 2],
      ['UPDATE_ROUND_START', 2],
      ['UPDATE_ROUND_START', 3],
      ['MODEL_TEST_ROUND', 4],
      ['TRAINING_FINISHED', null],
    ]);
    const starts = roundStarts.filter((n) => n.type === 'UPDATE_ROUND_START');
    for (const start of starts) {
      expect(start.body).toEqual({ round: start.body.round, global_model_uuid: 'model-1', model_uuid: 'model-1' });
    }
    // After an aggregation everyone starts from the global model; after a chained round, from another's update.
    expect([starts[0]?.perReceiver, starts[2]?.perReceiver]).toEqual([{}, {}]);
    for (const [index, round] of [
      [1, 0],
      [3, 2],
    ] as const) {
      const assigned = Object.entries(starts[index]?.perReceiver ?? {}).map(([client, body]): [string, unknown] => [
        client,
        body.model_uuid,
      ]);
      expect(assigned.map(([client]) => client).sort()).toEqual(clients);
      expect(new Set(assigned.map(([, model]) => model))).toEqual(new Set(clients.map((c) => `local-${c}-${round}`)));
      assigned.forEach(([client, model]) => expect(model).not.toBe(`local-${client}-${round}`));
    }
  });

  it('when too few updates arrive even after the one extension, fails to ERROR with the reason stored', async () => {
    const settings = testSettings({ targetNumUpdates: 1, roundTimeoutMs: 1_000, minFraction: 0.6 });
    const { calls, result } = await run('below-quorum', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-a']);
      const extended = await waitForStatus(handle, (s) => s.extended);
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      return { extended, failure };
    });
    expect(result.extended).toMatchObject({
      phase: 'UPDATE',
      received: ['client-a'],
      missing: ['client-b', 'client-c'],
    });
    expect(result.failure).toBeInstanceOf(WorkflowFailedError);
    expect(calls.aggregations).toEqual([]);
    expect(calls.states.at(-1)).toEqual({
      state: 'E',
      error: 'Round 0 ended below quorum: 1 of 2 required updates arrived before the extended deadline.',
    });
  });

  it('when a client declines, the update round and the test round end at once without it, and each wait closes its tasks with who declined why', async () => {
    // Deadlines of ten minutes: the training can only finish within the test's time if the declines end the waits.
    const settings = testSettings({ targetNumUpdates: 1, roundTimeoutMs: 600_000, testTimeoutMs: 600_000 });
    const { calls, result } = await run('decline', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-a', 'client-b']);
      const declined = await decline(handle, settings, 0, 'update', 'client-c', 'no new data today');
      await upload(handle, settings, 1, 'test', ['client-a']);
      const status = await waitForStatus(handle, (s) => s.phase === 'TEST' && s.received.length === 1);
      await decline(handle, settings, 1, 'test', 'client-b', 'busy');
      await decline(handle, settings, 1, 'test', 'client-c', '');
      await handle.result();
      return { declined, status };
    });
    expect(result.declined).toEqual({ declined: true, round: 0, phase: 'update' });
    expect(result.status.missing).toEqual(['client-b', 'client-c']);
    expect(calls.aggregations).toEqual([{ round: 0, clients: ['client-a', 'client-b'], sampleSizes: [1000, 1000] }]);
    expect(calls.closed).toEqual([
      {
        trainingId: settings.trainingId,
        round: 0,
        type: 'UPDATE_ROUND_START',
        received: ['client-a', 'client-b'],
        declined: { 'client-c': 'no new data today' },
        participants: ['client-a', 'client-b', 'client-c'],
      },
      {
        trainingId: settings.trainingId,
        round: 1,
        type: 'MODEL_TEST_ROUND',
        received: ['client-a'],
        declined: { 'client-b': 'busy', 'client-c': '' },
        participants: ['client-a', 'client-b', 'client-c'],
      },
    ]);
    expect(calls.states.at(-1)).toEqual({ state: 'C' });
    // Every notification that is a task names its round and deadline.
    const roundStart = calls.notifications.find((n) => n.type === 'UPDATE_ROUND_START');
    expect(roundStart?.round).toBe(0);
    expect(roundStart?.deadline).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('when a decline names another round or phase, comes after the upload or from a stranger, refuses it; a repeated decline answers as the first, and an upload after a decline is refused', async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true, roundTimeoutMs: 600_000 });
    const { result } = await run('decline-refusals', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-a']);
      const failures: string[] = [];
      const attempt = (clientId: string, round: number, phase: 'update' | 'test', id: string) =>
        handle
          .executeUpdate(declineUpdate, { args: [{ clientId, round, phase, message: '' }], updateId: id })
          .catch((err: unknown) => void failures.push(refusalType(err)));
      await attempt('client-b', 1, 'update', 'd1');
      await attempt('client-b', 0, 'test', 'd2');
      await attempt('client-a', 0, 'update', 'd3');
      await attempt('stranger', 0, 'update', 'd4');
      const first = await decline(handle, settings, 0, 'update', 'client-b', 'first');
      // Another Update id: the run itself answers a repeated decline as the first (the message stays the first's).
      const again = await handle.executeUpdate(declineUpdate, {
        args: [{ clientId: 'client-b', round: 0, phase: 'update', message: 'second' }],
        updateId: 'd5',
      });
      await handle
        .executeUpdate(submitUploadUpdate, {
          args: [{ clientId: 'client-b', round: 0, phase: 'update', uploadId: 'late', sampleSize: 5 }],
          updateId: 'late',
        })
        .catch((err: unknown) => void failures.push(refusalType(err)));
      const status = await waitForStatus(handle, (s) => s.declined?.['client-b'] !== undefined);
      await upload(handle, settings, 0, 'update', ['client-c']);
      await handle.result();
      return { failures, first, again, status };
    });
    expect(result.failures).toEqual(['wrong_phase', 'wrong_phase', 'slot_filled', 'not_participant', 'declined']);
    expect(result.again).toEqual(result.first);
    expect(result.status.declined).toEqual({ 'client-b': 'first' });
  });

  it('when declines leave a round below its quorum with nobody else to wait for, fails at once with the reason', async () => {
    const settings = testSettings({ targetNumUpdates: 1, roundTimeoutMs: 600_000, minClients: 2 });
    const { calls } = await run('decline-below-quorum', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-a']);
      await decline(handle, settings, 0, 'update', 'client-b', '');
      await decline(handle, settings, 0, 'update', 'client-c', '');
      return handle.result().catch((err: unknown) => err);
    });
    expect(calls.aggregations).toEqual([]);
    expect(calls.states.at(-1)).toEqual({
      state: 'E',
      error: 'Round 0 ended below quorum: 1 of 2 required updates arrived, and the other participants declined (2).',
    });
  });

  it('when a client declines its SWAG task, the SWAG round ends at once without it', async () => {
    const settings = testSettings({
      targetNumUpdates: 1,
      skipModelTests: true,
      uncertaintyMethod: 'SWAG',
      roundTimeoutMs: 600_000,
    });
    const { calls } = await run('decline-swag', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', settings.participants);
      await upload(handle, settings, 1, 'swag', ['client-a', 'client-b']);
      await decline(handle, settings, 1, 'swag', 'client-c', 'no moments kept');
      return handle.result();
    });
    expect(calls.swag).toEqual([{ round: 1, clients: ['client-a', 'client-b'], sampleSizes: [1000, 1000] }]);
    expect(calls.closed.at(-1)).toMatchObject({
      round: 1,
      type: 'SWAG_ROUND_START',
      declined: { 'client-c': 'no moments kept' },
    });
    expect(calls.states.at(-1)).toEqual({ state: 'C' });
  });

  it('when a client joins mid-round, the round goes on without it and it takes part from the next round start', async () => {
    const settings = testSettings({ targetNumUpdates: 2, skipModelTests: true });
    const { calls, result } = await run('join', settings, async (handle) => {
      await waitForStatus(handle, (s) => s.phase === 'UPDATE' && s.round === 0);
      await handle.signal(addClientSignal, { clientId: 'client-d' });
      // Twice, as a retried request would: it joins once.
      await handle.signal(addClientSignal, { clientId: 'client-d' });
      await upload(handle, settings, 0, 'update', settings.participants);
      await upload(handle, settings, 1, 'update', [...settings.participants, 'client-d']);
      await handle.result();
      return { status: await handle.query(trainingStatusQuery) };
    });
    expect(calls.aggregations).toEqual([
      { round: 0, clients: ['client-a', 'client-b', 'client-c'], sampleSizes: [1000, 1000, 1000] },
      { round: 1, clients: ['client-a', 'client-b', 'client-c', 'client-d'], sampleSizes: [1000, 1000, 1000, 1000] },
    ]);
    const starts = calls.notifications.filter((n) => n.type === 'UPDATE_ROUND_START').map((n) => n.receivers);
    expect(starts).toEqual([settings.participants, [...settings.participants, 'client-d']]);
    expect(result.status.participants).toContain('client-d');
  });

  it('when the training names a dataset, evaluates the initial model and every aggregate beside the rounds; a failed evaluation leaves the training running', async () => {
    const settings = testSettings({ targetNumUpdates: 2, skipModelTests: true, evaluationDatasetId: 7 });
    const { calls, result } = await run(
      'evaluation',
      settings,
      async (handle) => {
        await upload(handle, settings, 0, 'update', settings.participants);
        await upload(handle, settings, 1, 'update', settings.participants);
        const outcome = await handle.result();
        const { memo } = await handle.describe();
        return { outcome, memo };
      },
      { failEvaluationOf: new Set([1]) },
    );
    expect(result.outcome).toEqual({ round: 2 });
    expect([...calls.evaluated].sort()).toEqual([0, 1, 2]);
    expect(calls.states.at(-1)).toEqual({ state: 'C' });
    // The memo shows an evaluation the run finished.
    expect(result.memo?.evaluation).toMatchObject({ round: expect.any(Number) as number });
  });

  it('when a client is removed mid-round, the round stops waiting for it at once', async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true });
    const { calls } = await run('removed-client', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', ['client-a', 'client-b']);
      await handle.signal(removeClientSignal, { clientId: 'client-c', reason: 'removed by the actor' });
      return handle.result();
    });
    expect(calls.aggregations).toEqual([{ round: 0, clients: ['client-a', 'client-b'], sampleSizes: [1000, 1000] }]);
  });

  it('when a notification cannot be delivered, the client leaves the training and the actor gets CLIENT_REMOVED', async () => {
    const settings = testSettings({ targetNumUpdates: 1, skipModelTests: true, proximalMu: 0.01 });
    const { calls } = await run(
      'undeliverable',
      settings,
      async (handle) => {
        await upload(handle, settings, 0, 'update', ['client-a', 'client-b']);
        return handle.result();
      },
      { undeliverable: new Set(['client-c']) },
    );
    expect(calls.removed).toEqual([
      { clientId: 'client-c', reason: 'notification TRAINING_START could not be delivered' },
    ]);
    const removal = calls.notifications.find((n) => n.type === 'CLIENT_REMOVED');
    expect(removal).toMatchObject({ receivers: ['actor'], body: { client_uuid: 'client-c' } });
    const roundStart = calls.notifications.find((n) => n.type === 'UPDATE_ROUND_START');
    expect(roundStart).toMatchObject({
      receivers: ['client-a', 'client-b'],
      body: { round: 0, global_model_uuid: 'model-1', proximal_mu: 0.01 },
    });
  });

  it('when Temporal suggests continue-as-new (this test server does past 40 events), hands round and participants to a new run and ends the same', async () => {
    const settings = testSettings({ targetNumUpdates: 3, skipModelTests: true });
    const { calls, result } = await run('continue-as-new', settings, async (handle) => {
      await upload(handle, settings, 0, 'update', settings.participants);
      await waitForStatus(handle, (s) => s.phase === 'UPDATE' && s.round === 1);
      await handle.signal(removeClientSignal, { clientId: 'client-c', reason: 'removed by the actor' });
      for (const round of [1, 2]) {
        await upload(handle, settings, round, 'update', ['client-a', 'client-b']);
      }
      const outcome = await handle.result();
      const runs: string[] = [];
      for await (const execution of temporal.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
        runs.push(execution.runId);
      }
      const first = await temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
      return { outcome, runs, firstStatus: first.status.name, lastStatus: await handle.query(trainingStatusQuery) };
    });
    expect(result.outcome).toEqual({ round: 3 });
    expect(result.firstStatus).toBe('CONTINUED_AS_NEW');
    expect(result.runs.length).toBeGreaterThanOrEqual(2);
    expect(calls.aggregations.map((a) => [a.round, a.clients])).toEqual([
      [0, ['client-a', 'client-b', 'client-c']],
      [1, ['client-a', 'client-b']],
      [2, ['client-a', 'client-b']],
    ]);
    expect(result.lastStatus).toMatchObject({ phase: 'FINISHED', round: 3, participants: ['client-a', 'client-b'] });
    expect(calls.notifications.filter((n) => n.type === 'TRAINING_START')).toHaveLength(1);
  });
});

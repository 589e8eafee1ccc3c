import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createTrainingActivities } from '../../src/activities/training-activities';
import { FlModel } from '../../src/db/models/model';
import { ModelVersion } from '../../src/db/models/model-version';
import { Training } from '../../src/db/models/training';
import { Upload } from '../../src/db/models/upload';
import { collectBytes } from '../../src/onnx/model-source';
import { decodeStrategyState } from '../../src/aggregation/strategy-state';
import { listReferencedDigests } from '../../src/db/queries/blobs';
import { createLogger } from '../../src/logger';
import { aggregationBytes } from '../../src/metrics/metrics';
import type { FsBlobStore } from '../../src/storage/fs-blob-store';
import type { UploadSubmission } from '../../src/workflows/training/definitions';
import { createTestKnex } from '../support/db';
import {
  engineAggregate,
  MLP_CLIENTS,
  seedMlpTraining,
  type SeededTraining,
  sha256,
  storeUpdate,
  tempBlobStore,
} from './training-fixtures';

describe('training activities', () => {
  let knex: Knex;
  let store: Awaited<ReturnType<typeof tempBlobStore>>;
  let blobs: FsBlobStore;
  let acts: ReturnType<typeof createTrainingActivities>;
  // Failures the tests expect are logged by the SDK at WARN.
  const quiet = { logger: new DefaultLogger('ERROR') };
  const env = new MockActivityEnvironment({}, quiet);

  /** Runs one activity in the mock environment, keeping its argument and result types. */
  function run<A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> {
    return env.run<[A], R, (arg: A) => Promise<R>>(fn, arg);
  }

  beforeAll(async () => {
    knex = createTestKnex();
    store = await tempBlobStore();
    blobs = store.blobs;
    acts = createTrainingActivities({ knex, blobs, logger: createLogger('error') });
  });

  afterAll(async () => {
    await knex.destroy();
    await store.remove();
  });

  /** Stores every client's round-0 update and returns what the workflow would hand to `aggregateRound`. */
  async function uploadRound0(seeded: SeededTraining): Promise<UploadSubmission[]> {
    return await Promise.all(
      seeded.clients.map(async (client, index) => {
        const row = await storeUpdate(knex, blobs, seeded, client, 0, index);
        return {
          clientId: client.id,
          round: 0,
          phase: 'update' as const,
          uploadId: row.id,
          sampleSize: MLP_CLIENTS[index]?.sampleSize,
        };
      }),
    );
  }

  async function blobCount(): Promise<number> {
    let count = 0;
    for await (const _ of blobs.list()) {
      count += 1;
    }
    return count;
  }

  /** What `roundhouse_aggregation_bytes_total` holds for `method`. */
  async function bytesCounted(method: string): Promise<number> {
    return (await aggregationBytes.get()).values.find((v) => v.labels.method === method)?.value ?? 0;
  }

  describe('aggregateRound', () => {
    it('when three clients updated round 0, stores the engine aggregate byte for byte as version 1 and moves the model to round 1', async () => {
      const seeded = await seedMlpTraining(knex, blobs);
      const updates = await uploadRound0(seeded);
      const expected = await engineAggregate(
        'FedAvg',
        seeded.clients.map((client) => client.id),
      );

      let heartbeats = 0;
      env.on('heartbeat', () => (heartbeats += 1));

      const result = await run(acts.aggregateRound, { trainingId: seeded.training.id, round: 0, updates });

      env.removeAllListeners('heartbeat');
      expect(heartbeats).toBeGreaterThan(3);
      expect(result).toEqual({ round: 1, weightsDigest: sha256(expected) });
      expect((await blobs.readAll(result.weightsDigest)).equals(expected)).toBe(true);
      expect(await ModelVersion.query(knex).findOne({ modelId: seeded.model.id, round: 1 })).toMatchObject({
        weightsDigest: result.weightsDigest,
        weightsSize: String(expected.length),
      });
      expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 1 });
      // Local models are kept unless the options say otherwise.
      expect(await FlModel.query(knex).where({ baseModelId: seeded.model.id })).toHaveLength(3);
    });

    it("when update blobs cannot be stat'ed for the bytes metric, the round is recorded all the same", async () => {
      const seeded = await seedMlpTraining(knex, blobs);
      const updates = await uploadRound0(seeded);
      // The same store, but its stat fails (an S3 HEAD throttled, say) once the round is aggregated.
      const flaky = new Proxy(blobs, {
        get(target, property) {
          if (property === 'stat') {
            return () => Promise.reject(new Error('HEAD throttled'));
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const flakyActs = createTrainingActivities({ knex, blobs: flaky, logger: createLogger('error') });
      const before = await bytesCounted('FedAvg');
      const result = await run(flakyActs.aggregateRound, { trainingId: seeded.training.id, round: 0, updates });
      expect(result.round).toBe(1);
      expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 1 });
      expect(await bytesCounted('FedAvg')).toBe(before);
    });

    it('when retried after it succeeded, returns the same digest and writes no version or blob', async () => {
      const seeded = await seedMlpTraining(knex, blobs);
      const updates = await uploadRound0(seeded);
      const input = { trainingId: seeded.training.id, round: 0, updates };
      const first = await run(acts.aggregateRound, input);
      const blobsBefore = await blobCount();

      await expect(run(acts.aggregateRound, input)).resolves.toEqual(first);

      expect(await ModelVersion.query(knex).where({ modelId: seeded.model.id })).toHaveLength(2);
      expect(await blobCount()).toBe(blobsBefore);
      expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 1 });
    });

    it('when the method keeps state (FedAdam), stores it as a blob named on the version; a retry returns it, the sweep keeps it', async () => {
      const seeded = await seedMlpTraining(knex, blobs, { aggregationMethod: 'FedAdam' });
      const updates = await uploadRound0(seeded);
      const input = { trainingId: seeded.training.id, round: 0, updates };
      const first = await run(acts.aggregateRound, input);

      expect(first.stateDigest).toMatch(/^[0-9a-f]{64}$/);
      await expect(run(acts.aggregateRound, input)).resolves.toEqual(first);
      const state = decodeStrategyState(await collectBytes(await blobs.read(first.stateDigest ?? '')));
      expect(state.step).toBe(1);
      const slots = [...state.tensors.keys()];
      expect(slots.filter((key) => key.startsWith('m/')).length).toBeGreaterThan(0);
      expect(slots.filter((key) => key.startsWith('v/')).length).toBe(slots.length / 2);
      expect(await ModelVersion.query(knex).findOne({ modelId: seeded.model.id, round: 1 })).toMatchObject({
        strategyStateDigest: first.stateDigest,
      });
      expect((await listReferencedDigests(knex)).has(first.stateDigest ?? '')).toBe(true);
    });

    it('when delete_local_models_after_aggregation is set, deletes the round local models and keeps their upload slots', async () => {
      const seeded = await seedMlpTraining(knex, blobs, {
        options: { delete_local_models_after_aggregation: true },
      });
      const updates = await uploadRound0(seeded);

      await run(acts.aggregateRound, { trainingId: seeded.training.id, round: 0, updates });

      expect(await FlModel.query(knex).where({ baseModelId: seeded.model.id })).toEqual([]);
      const slots = await Upload.query(knex).where({ trainingId: seeded.training.id });
      expect(slots).toHaveLength(3);
      expect(slots.every((slot) => slot.modelId === null && slot.blobDigest !== null)).toBe(true);
      // A retry now (the local models are gone) still answers with the stored version.
      await expect(
        run(acts.aggregateRound, { trainingId: seeded.training.id, round: 0, updates }),
      ).resolves.toMatchObject({ round: 1 });
    });

    it('when the activity is cancelled, stops at the next chunk and records no version', async () => {
      const seeded = await seedMlpTraining(knex, blobs);
      const updates = await uploadRound0(seeded);
      const cancelled = new MockActivityEnvironment({}, quiet);
      cancelled.cancel();

      await expect(
        cancelled.run(acts.aggregateRound, { trainingId: seeded.training.id, round: 0, updates }),
      ).rejects.toMatchObject({ name: 'CancelledFailure' });
      expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 0 });
    });

    it('when a FedDC round ends between aggregations, advanceRound makes the current weights the next version; a retry returns it', async () => {
      const seeded = await seedMlpTraining(knex, blobs, { aggregationMethod: 'FedDC' });

      const first = await run(acts.advanceRound, { trainingId: seeded.training.id, round: 0 });
      const again = await run(acts.advanceRound, { trainingId: seeded.training.id, round: 0 });

      const versions = await ModelVersion.query(knex).where({ modelId: seeded.model.id }).orderBy('round');
      expect(versions.map((version) => version.round)).toEqual([0, 1]);
      expect(versions[1]?.weightsDigest).toBe(versions[0]?.weightsDigest);
      expect(first).toEqual({ round: 1, weightsDigest: versions[0]?.weightsDigest });
      expect(again).toEqual(first);
      expect(await FlModel.query(knex).findById(seeded.model.id)).toMatchObject({ round: 1 });
    });

    it('when an accepted update has no upload row, fails non-retryably with upload_not_found', async () => {
      const seeded = await seedMlpTraining(knex, blobs);
      const [first] = await uploadRound0(seeded);
      const stranger = { clientId: randomUUID(), round: 0, phase: 'update' as const, uploadId: 'x', sampleSize: 5 };

      await expect(
        run(acts.aggregateRound, {
          trainingId: seeded.training.id,
          round: 0,
          updates: [...(first ? [first] : []), stranger],
        }),
      ).rejects.toMatchObject({ type: 'upload_not_found', nonRetryable: true });
    });
  });

  describe('loadTrainingSettings', () => {
    it('when options are given, maps them: sorted participants, seconds to ms, quorum, FedProx mu, skipped tests', async () => {
      const seeded = await seedMlpTraining(knex, blobs, {
        aggregationMethod: 'FedProx',
        targetNumUpdates: 4,
        options: {
          round_timeout: 2.5,
          test_timeout: 10,
          min_fraction: 0.5,
          skip_model_tests: true,
          model_test_after_each_round: false,
          proximal_mu: 0.1,
        },
      });
      await FlModel.query(knex).findById(seeded.model.id).patch({ round: 2 });

      await expect(run(acts.loadTrainingSettings, seeded.training.id)).resolves.toEqual({
        trainingId: seeded.training.id,
        modelId: seeded.model.id,
        actorId: seeded.actor.id,
        participants: seeded.clients.map((client) => client.id).sort(),
        startRound: 2,
        targetNumUpdates: 4,
        aggregationMethod: 'FedProx',
        skipModelTests: true,
        modelTestAfterEachRound: false,
        roundTimeoutMs: 2500,
        testTimeoutMs: 10_000,
        minClients: undefined,
        minFraction: 0.5,
        proximalMu: 0.1,
        uncertaintyMethod: 'NONE',
      });
    });

    it('when options are empty, uses the defaults: one hour and 15 minutes, every participant, tests on', async () => {
      const seeded = await seedMlpTraining(knex, blobs, { options: { min_clients: 2 } });
      const fedProx = await seedMlpTraining(knex, blobs, { aggregationMethod: 'FedProx' });

      await expect(run(acts.loadTrainingSettings, seeded.training.id)).resolves.toMatchObject({
        startRound: 0,
        aggregationMethod: 'FedAvg',
        skipModelTests: false,
        modelTestAfterEachRound: true,
        roundTimeoutMs: 3_600_000,
        testTimeoutMs: 900_000,
        minClients: 2,
        minFraction: undefined,
        proximalMu: undefined,
      });
      await expect(run(acts.loadTrainingSettings, fedProx.training.id)).resolves.toMatchObject({ proximalMu: 0 });
    });

    it('when the training does not exist, fails non-retryably with training_not_found', async () => {
      await expect(run(acts.loadTrainingSettings, randomUUID())).rejects.toMatchObject({
        type: 'training_not_found',
        nonRetryable: true,
      });
      await expect(run(acts.recordTrainingState, { trainingId: randomUUID(), state: 'O' })).rejects.toMatchObject({
        type: 'training_not_found',
      });
      await expect(run(acts.aggregateRound, { trainingId: randomUUID(), round: 0, updates: [] })).rejects.toMatchObject(
        { type: 'training_not_found' },
      );
    });
  });

  describe('recordTrainingState and removeParticipant', () => {
    it('when a state is recorded twice, the row holds it once; an error is kept only with E', async () => {
      const { training } = await seedMlpTraining(knex, blobs, { state: 'I' });
      const state = async (): Promise<Pick<Training, 'state' | 'error'> | undefined> =>
        await Training.query(knex).findById(training.id).select('state', 'error');

      await run(acts.recordTrainingState, { trainingId: training.id, state: 'O' });
      await run(acts.recordTrainingState, { trainingId: training.id, state: 'O' });
      expect(await state()).toMatchObject({ state: 'O', error: null });

      await run(acts.recordTrainingState, { trainingId: training.id, state: 'C', error: 'ignored' });
      expect(await state()).toMatchObject({ state: 'C', error: null });

      await run(acts.recordTrainingState, { trainingId: training.id, state: 'E', error: 'below quorum' });
      await run(acts.recordTrainingState, { trainingId: training.id, state: 'E', error: 'below quorum' });
      expect(await state()).toMatchObject({ state: 'E', error: 'below quorum' });
    });

    it('when a participant is removed twice, the row is gone and the second call is harmless', async () => {
      const { training, clients } = await seedMlpTraining(knex, blobs);
      const [gone, ...staying] = clients.map((client) => client.id);
      const input = { trainingId: training.id, clientId: gone ?? '', reason: 'notification failed' };

      await run(acts.removeParticipant, input);
      await run(acts.removeParticipant, input);

      const rows: Array<{ userId: string }> = await knex('training_participants')
        .where('training_id', training.id)
        .select('user_id');
      expect(rows.map((row) => row.userId).sort()).toEqual(staying.sort());
    });
  });
});

import request from 'supertest';
import { Metric } from '../../src/db/models/metric';
import { Upload } from '../../src/db/models/upload';
import { connectTestTemporal } from '../support/temporal';
import { downloadVersion, expectedVersions, trainToEnd, type TrainingView } from '../support/training-scenario';

/** Longer than the test itself may take: a test round that waits for its deadline fails the test. */
const TEST_TIMEOUT_SECONDS = 600;

describe('a training whose model owner is also its actor and a participant (the reference MNIST example)', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('when that client uploads updates and test metrics, each counts: no round waits for its deadline', async () => {
    const startedAt = Date.now();
    const { api, server, clients, actorAuth, actorId, modelId, trainingId, close } = await trainToEnd(
      temporal,
      'acting-participant',
      2,
      { options: { round_timeout: TEST_TIMEOUT_SECONDS, test_timeout: TEST_TIMEOUT_SECONDS } },
      { actingClient: 'a' },
    );
    try {
      const acting = clients.find((client) => client.name === 'a')!;
      expect(actorId).toBe(acting.id);
      expect(Date.now() - startedAt).toBeLessThan(TEST_TIMEOUT_SECONDS * 1000);

      const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
      expect(training.status).toBe(200);
      const view = training.body as TrainingView & { actor: string };
      expect(view).toMatchObject({ state: 'C', actor: acting.id });
      expect(view.participants).toContain(acting.id);

      // Its update and its test metrics filled their slots in both rounds, like every other client's.
      const slots = await Upload.query(api.knex).where({ trainingId, clientId: acting.id }).orderBy(['round', 'phase']);
      expect(slots.map((slot) => [slot.round, slot.phase])).toEqual([
        [0, 'update'],
        [1, 'test'],
        [1, 'update'],
        [2, 'test'],
      ]);
      const metrics = await Metric.query(api.knex).where({ modelId, reporterId: acting.id });
      expect(metrics.map((metric) => metric.step).sort()).toEqual([1, 2]);

      // It received the notifications once each, as a participant (TRAINING_FINISHED is not doubled for the actor).
      expect(acting.receiver.received.map((n) => n.notification_type)).toEqual([
        'TRAINING_START',
        'UPDATE_ROUND_START',
        'MODEL_TEST_ROUND',
        'UPDATE_ROUND_START',
        'MODEL_TEST_ROUND',
        'TRAINING_FINISHED',
      ]);
      const expected = await expectedVersions(clients, 2);
      expect((await downloadVersion(server, actorAuth, modelId, 2)).equals(expected[1]!)).toBe(true);
    } finally {
      await close();
    }
  }, 120_000);
});

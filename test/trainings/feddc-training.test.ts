import request from 'supertest';
import { connectTestTemporal } from '../support/temporal';
import { downloadVersion, expectedVersions, trainToEnd } from '../support/training-scenario';

interface StoredRoundStart {
  receiverId: string;
  body: { round: number; global_model_uuid: string; model_uuid: string };
}

describe('a FedDC training through the HTTP API', () => {
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
  });

  it('daisy-chains the updates between aggregations as the stored notifications say, and aggregates every period', async () => {
    // Two aggregations, each after two rounds; every round between them is daisy-chained.
    const { api, server, clients, actorAuth, modelId, trainingId, close } = await trainToEnd(temporal, 'feddc-e2e', 2, {
      method: 'FedDC',
      options: { daisy_chain_period: 1, aggregation_period: 2 },
    });

    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(training.body).toMatchObject({ state: 'C', error: null });
    const ids = clients.map((c) => c.id);
    for (const client of clients) {
      expect(client.receiver.errors).toEqual([]);
      // Tests follow the aggregations only (rounds 2 and 4).
      expect(client.receiver.received.map((n) => [n.notification_type, n.body.round ?? null])).toEqual([
        ['TRAINING_START', null],
        ['UPDATE_ROUND_START', 0],
        ['UPDATE_ROUND_START', 1],
        ['MODEL_TEST_ROUND', 2],
        ['UPDATE_ROUND_START', 2],
        ['UPDATE_ROUND_START', 3],
        ['MODEL_TEST_ROUND', 4],
        ['TRAINING_FINISHED', null],
      ]);
    }

    // Who uploaded which local model in which round: every upload went to the global model.
    const uploads = await api
      .knex('uploads')
      .join('models', 'models.id', 'uploads.model_id')
      .where({ 'uploads.training_id': trainingId, 'uploads.phase': 'update' })
      .select<Array<{ round: number; clientId: string; modelId: string; baseModelId: string }>>(
        'uploads.round',
        'uploads.client_id',
        'uploads.model_id',
        'models.base_model_id',
      );
    expect(uploads).toHaveLength(12);
    expect(new Set(uploads.map((u) => u.baseModelId))).toEqual(new Set([modelId]));
    const uploaderOf = new Map(uploads.map((u) => [u.modelId, u]));

    // Who trained which model in which round, from the stored round-start notifications.
    const starts = await api
      .knex('notifications')
      .where({ trainingId, type: 'UPDATE_ROUND_START' })
      .orderBy('taskId')
      .select<StoredRoundStart[]>('receiverId', 'body');
    expect(starts).toHaveLength(12);
    for (const round of [0, 1, 2, 3]) {
      const ofRound = starts.filter((s) => s.body.round === round);
      expect(ofRound.map((s) => s.receiverId).sort()).toEqual([...ids].sort());
      for (const start of ofRound) {
        expect(start.body.global_model_uuid).toBe(modelId);
        if (round % 2 === 0) {
          // The first round and every round after an aggregation start from the global model.
          expect(start.body.model_uuid).toBe(modelId);
        } else {
          // A chained round: another participant's update of the round before.
          const source = uploaderOf.get(start.body.model_uuid);
          expect(source?.round).toBe(round - 1);
          expect(source?.clientId).not.toBe(start.receiverId);
        }
      }
      if (round % 2 === 1) {
        expect(new Set(ofRound.map((s) => s.body.model_uuid)).size).toBe(clients.length);
      }
    }

    // Each client downloaded exactly the models it was assigned; another's update it was not assigned stays 403.
    for (const client of clients) {
      const assigned = starts
        .filter((s) => s.receiverId === client.id && s.body.round % 2 === 1)
        .map((s) => ({ round: s.body.round, modelId: s.body.model_uuid, status: 200 }));
      expect([...client.downloads].sort((a, b) => a.round - b.round)).toEqual(assigned);
      const notAssigned = uploads.find(
        (u) => u.round === 0 && u.clientId !== client.id && !assigned.some((a) => a.modelId === u.modelId),
      );
      const refused = await request(server)
        .get(`/api/models/${notAssigned?.modelId ?? ''}/`)
        .set('Authorization', `Token ${client.token}`);
      expect(refused.status).toBe(403);
    }

    // Every round has a version; chained rounds keep the weights, aggregations are the FedAvg of the round's uploads.
    const rounds = await request(server).get(`/api/models/${modelId}/rounds/`).set('Authorization', actorAuth);
    const digests = (rounds.body as Array<{ round: number; digest: string }>).map((v) => [v.round, v.digest]);
    expect(digests.map(([round]) => round)).toEqual([0, 1, 2, 3, 4]);
    expect(digests[1]?.[1]).toBe(digests[0]?.[1]);
    expect(digests[3]?.[1]).toBe(digests[2]?.[1]);
    const [fedAvg] = await expectedVersions(clients, 1);
    for (const round of [2, 4]) {
      expect((await downloadVersion(server, actorAuth, modelId, round)).equals(fedAvg ?? Buffer.alloc(0))).toBe(true);
    }
    await close();
  }, 180_000);
});

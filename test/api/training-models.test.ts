import request from 'supertest';
import { z } from 'zod';
import { FlModel } from '../../src/db/models/model';
import type { User } from '../../src/db/models/user';
import { buildApiUser, createTestApi, idsOf, parseBody, tokenAuth, type TestApi } from '../fixtures/api-app';
import { setupTraining } from '../fixtures/api-models';

describe('GET /api/trainings/{id}/models/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  /** Updates of `owner` for rounds 0..rounds-1 of the global model (what aggregation would have left behind). */
  async function updates(globalId: string, owner: User, rounds: number): Promise<FlModel[]> {
    const rows: FlModel[] = [];
    for (let round = 0; round < rounds; round += 1) {
      rows.push(
        await FlModel.query(api.knex).insert({
          type: 'LOCAL',
          ownerId: owner.id,
          baseModelId: globalId,
          round,
          sampleSize: 10,
        }),
      );
    }
    return rows;
  }

  it('when the actor asks, lists the global model and every update of every participant (14 of 3, 4, 4, 3 rounds)', async () => {
    const { actor, participants, modelId, training } = await setupTraining(api, { participants: 4, state: 'O' });
    const all: FlModel[] = [];
    for (const [i, rounds] of [3, 4, 4, 3].entries()) {
      all.push(...(await updates(modelId, participants[i]!, rounds)));
    }
    await setupTraining(api);
    const res = await request(api.app.callback())
      .get(`/api/trainings/${training.id}/models/`)
      .set('Authorization', tokenAuth(actor));
    expect(res.status).toBe(200);
    expect(idsOf(res.body).sort()).toEqual([modelId, ...all.map((m) => m.id)].sort());
  });

  it("when the actor asks for latest/, lists the global model and each participant's latest update (5 items)", async () => {
    const { actor, participants, modelId, training } = await setupTraining(api, { participants: 4, state: 'O' });
    const latest: Array<[string, number]> = [];
    for (const [i, rounds] of [3, 4, 4, 3].entries()) {
      const rows = await updates(modelId, participants[i]!, rounds);
      latest.push([rows[rows.length - 1]!.id, rounds - 1]);
    }
    const res = await request(api.app.callback())
      .get(`/api/trainings/${training.id}/models/latest/`)
      .set('Authorization', tokenAuth(actor));
    const body = parseBody(z.array(z.object({ id: z.string(), round: z.number() })), res.body);
    expect(body).toHaveLength(5);
    expect(body.map((m) => [m.id, m.round]).sort()).toEqual([[modelId, 0], ...latest].sort());
  });

  it('when a participant asks, lists the global model and only their own updates; a stranger gets 404', async () => {
    const { participants, modelId, training } = await setupTraining(api, { state: 'O' });
    const own = await updates(modelId, participants[0]!, 2);
    await updates(modelId, participants[1]!, 2);
    const id = training.id;
    const res = await request(api.app.callback())
      .get(`/api/trainings/${id}/models/`)
      .set('Authorization', tokenAuth(participants[0]!));
    expect(idsOf(res.body).sort()).toEqual([modelId, ...own.map((m) => m.id)].sort());
    const stranger = await request(api.app.callback())
      .get(`/api/trainings/${id}/models/`)
      .set('Authorization', tokenAuth(await buildApiUser(api.knex)));
    expect(stranger.status).toBe(404);
  });
});

import request from 'supertest';
import type { TrainingLive, TrainingSummary } from '../../src/api/routes/dashboard/schemas';
import { Metric } from '../../src/db/models/metric';
import type { User } from '../../src/db/models/user';
import { buildApiUser, createTestApi, errorOf, tokenAuth, type TestApi } from '../fixtures/api-app';
import { logIn, type TestSession } from '../fixtures/api-sessions';
import { connectTestTemporal, type TestTemporal } from '../support/temporal';
import { createTraining, type Handler, registerClients, trainToEnd } from '../support/training-scenario';

/** GET a dashboard path with a browser's session cookie; fails the test on anything but 200. */
async function getWith<T>(server: Handler, session: TestSession, path: string): Promise<T> {
  const res = await request(server).get(path).set('Cookie', session.cookie);
  if (res.status !== 200) {
    throw new Error(`${path} answered ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as T;
}

describe('/api/dashboard/', () => {
  let api: TestApi;
  let temporal: TestTemporal;
  let actor: User;
  let session: TestSession;

  beforeAll(async () => {
    api = await createTestApi({ dashboard: { temporalUiUrl: 'http://temporal.example:8233' } });
    temporal = await connectTestTemporal();
    actor = await buildApiUser(api.knex, { actor: true });
    session = await logIn(api.app, actor);
  });

  afterAll(async () => {
    await temporal.close();
    await api.close();
  });

  describe('signed out', () => {
    it('when a visitor without a session asks for any data the dashboard reads, answers 401 with a detail', async () => {
      const training = '5b0f1f0e-1111-4b6a-9d0c-0a4e5d0c1a2b';
      for (const path of [
        '/api/users/myself/',
        '/api/dashboard/trainings/',
        '/api/dashboard/choices/',
        `/api/dashboard/trainings/${training}/`,
        `/api/dashboard/trainings/${training}/?since=ab&wait=5`,
        `/api/trainings/${training}/rounds/`,
        `/api/models/${training}/rounds/`,
        `/api/models/${training}/?round=0`,
        '/api/models/',
        '/api/users/',
        '/api/groups/',
        '/api/datasets/',
      ]) {
        const res = await request(api.app.callback()).get(path);
        expect(res).toMatchObject({
          status: 401,
          headers: { 'www-authenticate': 'Token' },
          body: { code: 'not_authenticated' },
        });
        expect(errorOf(res.body).detail).not.toBe('');
      }
    });

    it('when the session was ended, answers 401 asking to log in again', async () => {
      const gone = await logIn(api.app, actor);
      const out = await request(api.app.callback())
        .post('/api/auth/logout/')
        .set('Cookie', gone.cookie)
        .set('X-CSRFToken', gone.csrfToken);
      expect(out.status).toBe(200);
      const res = await request(api.app.callback()).get('/api/dashboard/trainings/').set('Cookie', gone.cookie);
      expect(res).toMatchObject({ status: 401, body: { detail: 'Invalid session; log in again.' } });
    });
  });

  describe('GET /api/dashboard/choices/', () => {
    it('when signed in, answers every aggregation and uncertainty method and the parameters of each method', async () => {
      const res = await request(api.app.callback()).get('/api/dashboard/choices/').set('Cookie', session.cookie);
      expect(res).toMatchObject({
        status: 200,
        body: {
          uncertainty_methods: ['NONE', 'ENSEMBLE', 'MC_DROPOUT', 'SWAG'],
          strategy_parameters: { FedProx: ['proximal_mu'], FedDC: ['daisy_chain_period', 'aggregation_period'] },
        },
      });
      const methods = (res.body as { aggregation_methods: string[] }).aggregation_methods;
      expect(methods).toEqual(expect.arrayContaining(['FedAvg', 'FedProx', 'FedDC', 'FedAdam', 'Krum', 'Bulyan']));
      expect(methods).toHaveLength(12);
    });
  });

  describe('GET /api/dashboard/trainings/', () => {
    it("when the actor has a training, lists its state, method, round, participants and the server's last figures", async () => {
      const server = api.app.callback();
      const clients = await registerClients(server, `dash-list-${Date.now()}`);
      const created = await createTraining(server, `dash-list-${Date.now()}`, clients, 2, {
        actor: { id: actor.id, token: actor.token },
      });
      const before = await getWith<TrainingSummary[]>(server, session, '/api/dashboard/trainings/');
      expect(before.find((t) => t.id === created.trainingId)).toEqual({
        id: created.trainingId,
        state: 'I',
        aggregation_method: 'FedAvg',
        uncertainty_method: 'NONE',
        target_num_updates: 2,
        round: 0,
        participants: 3,
        model: { id: created.modelId, name: 'mlp' },
        role: 'actor',
        server_metrics: null,
        last_update: expect.any(String) as string,
        error: null,
        workflow_url: `http://temporal.example:8233/namespaces/${temporal.namespace}/workflows/training-${created.trainingId}`,
      });
      // The server's evaluations of versions 0 and 1: the list shows the newest.
      await Metric.query(api.knex).insert([
        { modelId: created.modelId, trainingId: created.trainingId, key: 'accuracy', valueFloat: 0.5, step: 0 },
        { modelId: created.modelId, trainingId: created.trainingId, key: 'loss', valueFloat: 1.5, step: 0 },
        { modelId: created.modelId, trainingId: created.trainingId, key: 'accuracy', valueFloat: 0.75, step: 1 },
        { modelId: created.modelId, trainingId: created.trainingId, key: 'loss', valueFloat: 0.8, step: 1 },
      ]);
      const after = await getWith<TrainingSummary[]>(server, session, '/api/dashboard/trainings/');
      expect(after.find((t) => t.id === created.trainingId)?.server_metrics).toEqual({
        round: 1,
        values: { accuracy: 0.75, loss: 0.8 },
      });
      // A participant sees the training too, as a participant; a stranger does not.
      const participant = await request(server)
        .get('/api/dashboard/trainings/')
        .set('Authorization', `Token ${clients[0]?.token ?? ''}`);
      expect((participant.body as TrainingSummary[]).map((t) => [t.id, t.role])).toEqual([
        [created.trainingId, 'participant'],
      ]);
      const stranger = await buildApiUser(api.knex);
      const none = await request(server).get('/api/dashboard/trainings/').set('Authorization', tokenAuth(stranger));
      expect(none).toMatchObject({ status: 200, body: [] });
    });
  });

  describe('GET /api/dashboard/trainings/{id}/', () => {
    it('when since, wait or the id is malformed, answers 400 naming the parameter', async () => {
      const training = '5b0f1f0e-1111-4b6a-9d0c-0a4e5d0c1a2b';
      const cases: Array<[string, string]> = [
        [`/api/dashboard/trainings/${training}/?since=NOT-HEX`, 'since: Must be the version of an earlier answer.'],
        [
          `/api/dashboard/trainings/${training}/?since=ab&wait=31`,
          'wait: Must be a whole number of seconds from 0 to 30.',
        ],
        [`/api/dashboard/trainings/${training}/?wait=-1`, 'wait: Must be a whole number of seconds from 0 to 30.'],
        ['/api/dashboard/trainings/not-a-uuid/', 'Training not-a-uuid not found.'],
      ];
      for (const [path, detail] of cases) {
        const res = await request(api.app.callback()).get(path).set('Cookie', session.cookie);
        expect(res).toMatchObject({ status: 400, body: { detail, code: 'invalid_input' } });
      }
    });

    it('when the caller has no part in the training, answers 404 as if it did not exist', async () => {
      const server = api.app.callback();
      const created = await createTraining(server, `dash-hidden-${Date.now()}`, [], 1, {
        actor: { id: actor.id, token: actor.token },
      });
      const stranger = await buildApiUser(api.knex);
      const res = await request(server)
        .get(`/api/dashboard/trainings/${created.trainingId}/`)
        .set('Authorization', tokenAuth(stranger));
      expect(res).toMatchObject({
        status: 404,
        body: { detail: `Training ${created.trainingId} not found.`, code: 'not_found' },
      });
    });

    it('when a round advances while the actor waits with since, answers the change, then waits when nothing changes', async () => {
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const seen: TrainingLive[] = [];
      const finished = await trainToEnd(
        temporal,
        `dash-live-${Date.now()}`,
        1,
        { actor: { id: actor.id, token: actor.token } },
        {
          behaviour: { gate },
          during: async ({ server, trainingId }) => {
            const path = `/api/dashboard/trainings/${trainingId}/`;
            let live = await getWith<TrainingLive>(server, session, path);
            seen.push(live);
            release();
            while (live.rounds[0]?.produced !== 1) {
              const next = await getWith<TrainingLive>(server, session, `${path}?since=${live.version}&wait=20`);
              // A long-poll answers early only with a change.
              expect(next.version).not.toBe(live.version);
              seen.push(next);
              live = next;
            }
          },
        },
      );
      try {
        // The first answer, then at least one long-poll that ended with a change.
        expect(seen.length).toBeGreaterThan(1);
        const last = seen.at(-1);
        expect(last?.training).toMatchObject({ round: 1, role: 'actor', participants: 3 });
        expect(last?.rounds[0]).toMatchObject({ round: 0, produced: 1, update_count: 3 });
        expect(last?.versions.map((v) => [v.round, v.download_url])).toEqual([
          [0, `/api/models/${finished.modelId}/?round=0`],
          [1, `/api/models/${finished.modelId}/?round=1`],
        ]);
        expect(last?.clients.map((c) => c.id).sort()).toEqual(finished.clients.map((c) => c.id).sort());
        // Finished: nothing changes any more, so a long-poll waits out its seconds and answers the same version.
        const path = `/api/dashboard/trainings/${finished.trainingId}/`;
        const done = await getWith<TrainingLive>(finished.server, session, path);
        expect(done.training.state).toBe('C');
        const started = Date.now();
        const again = await getWith<TrainingLive>(finished.server, session, `${path}?since=${done.version}&wait=2`);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
        expect(again.version).toBe(done.version);
        // A participant sees itself only among the clients.
        const me = finished.clients[0];
        const mine = await request(finished.server)
          .get(path)
          .set('Authorization', `Token ${me?.token ?? ''}`);
        expect((mine.body as TrainingLive).clients.map((c) => c.id)).toEqual([me?.id]);
        expect((mine.body as TrainingLive).training.role).toBe('participant');
      } finally {
        await finished.close();
      }
    });

    it('while a long-poll waits, reads again only the rounds after the settled ones, and answers what the rounds list does', async () => {
      const finished = await trainToEnd(temporal, `dash-settled-${Date.now()}`, 2, {
        actor: { id: actor.id, token: actor.token },
      });
      const roundQueries: unknown[][] = [];
      const spy = (query: { sql: string; bindings?: unknown[] }): void => {
        if (/from "rounds"/.test(query.sql)) {
          roundQueries.push(query.bindings ?? []);
        }
      };
      try {
        const path = `/api/dashboard/trainings/${finished.trainingId}/`;
        const fresh = await getWith<TrainingLive>(finished.server, session, path);
        const listed = await request(finished.server)
          .get(`/api/trainings/${finished.trainingId}/rounds/`)
          .set('Authorization', `Token ${actor.token}`);
        expect(fresh.rounds.map((round) => [round.round, round.state])).toEqual([
          [0, 'DONE'],
          [1, 'DONE'],
        ]);
        expect(fresh.rounds).toEqual(listed.body);

        finished.api.knex.on('query', spy);
        const again = await getWith<TrainingLive>(finished.server, session, `${path}?since=${fresh.version}&wait=3`);
        // Nothing changed: the same view, rounds and all, from the settled rounds kept and the reads after them.
        expect(again).toEqual(fresh);
        // The first read takes the whole list; each read after it (one a second) only the rounds from 2 on.
        expect(roundQueries.length).toBeGreaterThanOrEqual(3);
        expect(roundQueries[0]).toEqual([finished.trainingId]);
        for (const bindings of roundQueries.slice(1)) {
          expect(bindings).toEqual([finished.trainingId, 2, 2_147_483_647]);
        }
      } finally {
        finished.api.knex.removeListener('query', spy);
        await finished.close();
      }
    });
  });
});

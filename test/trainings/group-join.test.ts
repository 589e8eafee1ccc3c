import request from 'supertest';
import type { RoundView } from '../../src/api/routes/trainings/round-schemas';
import { fixture } from '../fixtures/onnx-edge-cases';
import {
  createTraining,
  type Handler,
  registerClients,
  registerUser,
  type SimulatedClient,
  startTraining,
  startTrainingStack,
  type TrainingStack,
  waitForTraining,
} from '../support/training-scenario';

describe('a training open to a group', () => {
  let stack: TrainingStack;
  let server: Handler;
  let receivers: SimulatedClient[];

  beforeAll(async () => {
    stack = await startTrainingStack('group-join');
    ({ server, clients: receivers } = stack);
  });

  afterAll(async () => {
    await stack.close();
  });

  /** A group made by `owner` through the API, with `members` added by it. */
  async function groupOf(ownerToken: string, members: readonly string[]): Promise<number> {
    const created = await request(server)
      .post('/api/groups/')
      .set('Authorization', `Token ${ownerToken}`)
      .send({ name: `group-${Math.random().toString(36).slice(2)}` });
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    if (members.length > 0) {
      const added = await request(server)
        .post(`/api/groups/${id}/members/`)
        .set('Authorization', `Token ${ownerToken}`)
        .send({ user_ids: members });
      expect(added.status).toBeLessThan(300);
    }
    return id;
  }

  it('when a member of its group joins a running training, it gets the next round start and its update counts', async () => {
    // The three clients hold their round-0 updates until the joiner is in, so it joins during round 0.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const clients = await registerClients(server, 'group', { gate });
    const [joiner] = await registerClients(server, 'group-joiner', {}, [
      { name: 'd', model: fixture('mlp-client-c.onnx'), samples: 500 },
    ]);
    receivers.push(...clients, joiner!);
    const actor = await registerUser(server, `actor-group-${Date.now()}`, { actor: true });
    const group = await groupOf(actor.token, [joiner!.id]);
    const { actorAuth, trainingId } = await createTraining(server, 'group', clients, 2, {
      actor,
      options: { skip_model_tests: true },
      group,
    });
    const shown = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect(shown.body).toMatchObject({ group });
    await startTraining(server, actorAuth, trainingId);
    await waitForTraining(server, actorAuth, trainingId, (t) => t.run?.phase === 'UPDATE' && t.run.round === 0);
    const joined = await request(server)
      .post(`/api/trainings/${trainingId}/join/`)
      .set('Authorization', `Token ${joiner!.token}`);
    expect(joined.status).toBe(200);
    expect((joined.body as { detail: string }).detail).toMatch(/next round start/);
    // Joining again changes nothing.
    expect(
      (await request(server).post(`/api/trainings/${trainingId}/join/`).set('Authorization', `Token ${joiner!.token}`))
        .status,
    ).toBe(200);
    release();
    await waitForTraining(server, actorAuth, trainingId, (t) => t.state === 'C');
    const starts = joiner!.receiver.received.filter((n) => n.notification_type === 'UPDATE_ROUND_START');
    const rounds = (await request(server).get(`/api/trainings/${trainingId}/rounds/`).set('Authorization', actorAuth))
      .body as RoundView[];
    // It joined during round 0: round 1's start is its first, and its update counts there.
    expect(starts.map((n) => n.body.round)).toEqual([1]);
    expect(rounds.map((r) => [r.round, r.asked, r.update_count])).toEqual([
      [0, 3, 3],
      [1, 4, 4],
    ]);
    expect(rounds[1]!.updates.map((u) => u.client)).toContain(joiner!.id);
    // A page of rounds holds the same views as the whole list.
    const page = (query: string) =>
      request(server).get(`/api/trainings/${trainingId}/rounds/?${query}`).set('Authorization', actorAuth);
    expect((await page('from=1')).body).toEqual([rounds[1]]);
    expect((await page('limit=1')).body).toEqual([rounds[0]]);
    expect((await page('from=0&limit=5000')).body).toEqual(rounds);
    expect((await page('from=2')).body).toEqual([]);
    for (const [bad, name] of [
      ['from=-1', 'from'],
      ['from=x', 'from'],
      ['from=2147483648', 'from'],
      ['limit=0', 'limit'],
    ]) {
      const refused = await page(bad!);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain(name!);
    }
    const training = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', actorAuth);
    expect((training.body as { participants: string[] }).participants).toContain(joiner!.id);
    // A completed training takes nobody.
    expect(
      (await request(server).post(`/api/trainings/${trainingId}/join/`).set('Authorization', `Token ${joiner!.token}`))
        .status,
    ).toBe(400);
  });

  it('when a non-member, a stranger or the actor of a training without a group asks to join, refuses it', async () => {
    const actor = await registerUser(server, `actor-refuse-${Date.now()}`, { actor: true });
    const outsider = await registerUser(server, `outsider-${Date.now()}`, {});
    const [participant] = await registerClients(server, 'refuse', {}, [
      { name: 'p', model: fixture('mlp-client-a.onnx'), samples: 10 },
    ]);
    receivers.push(participant!);
    const group = await groupOf(actor.token, []);
    const open = await createTraining(server, 'refuse-open', [participant!], 1, { actor, group });
    const closed = await createTraining(server, 'refuse-closed', [participant!], 1, { actor });
    const join = (token: string, trainingId: string) =>
      request(server).post(`/api/trainings/${trainingId}/join/`).set('Authorization', `Token ${token}`);
    // A stranger learns nothing; a participant who is not in the group, or a training with no group: 403.
    expect((await join(outsider.token, open.trainingId)).status).toBe(404);
    const notMember = await join(participant!.token, open.trainingId);
    expect(notMember.status).toBe(403);
    expect((notMember.body as { detail: string }).detail).toMatch(/not a member of group/);
    expect((await join(actor.token, closed.trainingId)).status).toBe(403);
    // The actor is in its own group: it may join (as the reference's MNIST example's acting client does).
    expect((await join(actor.token, open.trainingId)).status).toBe(200);
    // Naming a group the actor is not in is refused, with nothing stored.
    const otherGroup = await groupOf(outsider.token, []);
    const refused = await request(server).post('/api/trainings/').set('Authorization', `Token ${actor.token}`).send({
      model_id: open.modelId,
      target_num_updates: 1,
      aggregation_method: 'FedAvg',
      group: otherGroup,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ details: { group: [`Group ${otherGroup} not found.`] } });
  });
});

import type { Knex } from 'knex';
import { FlModel } from '../../src/db/models/model';
import { Group } from '../../src/db/models/group';
import { Training } from '../../src/db/models/training';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createTestKnex } from '../support/db';

describe('Objection relations', () => {
  let knex: Knex;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  it('when a model, training and group are fetched with their graphs, every relation is filled', async () => {
    const actor = await buildUser(knex);
    const client = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id);
    const training = await buildTraining(knex, actor.id, model.id);
    await knex('training_participants').insert({ trainingId: training.id, userId: client.id });
    const [group] = await knex<{ id: number; name: string }>('groups')
      .insert({ name: `g-${model.id}` })
      .returning('id');
    await knex('group_memberships').insert({ groupId: group?.id, userId: client.id });

    const fetchedModel = await FlModel.query(knex).findById(model.id).withGraphFetched('[owner, versions]');
    expect(fetchedModel?.owner?.id).toBe(actor.id);
    expect(fetchedModel?.versions?.map((v) => v.round)).toEqual([0]);

    const fetchedTraining = await Training.query(knex)
      .findById(training.id)
      .withGraphFetched('[actor, model, participants]');
    expect(fetchedTraining?.actor?.id).toBe(actor.id);
    expect(fetchedTraining?.model?.id).toBe(model.id);
    expect(fetchedTraining?.participants?.map((u) => u.id)).toEqual([client.id]);

    const fetchedGroup = await Group.query(knex)
      .findById(group?.id ?? 0)
      .withGraphFetched('users');
    expect(fetchedGroup?.users?.map((u) => u.id)).toEqual([client.id]);
  });
});

import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createTestKnex } from '../support/db';

const digest = (): string => randomBytes(32).toString('hex');

/** The SQLSTATE of a failed statement (23514 check, 23505 unique, 23503 foreign key, 23502 not null). */
async function sqlState(promise: PromiseLike<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    // Objection wraps driver errors (db-errors) and keeps the driver's in `nativeError`.
    const wrapped = err as { code?: string; nativeError?: { code?: string } };
    return wrapped.nativeError?.code ?? wrapped.code;
  }
}

describe('database schema constraints', () => {
  let knex: Knex;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  it('when a training has an unknown state or method, the row is refused by a CHECK', async () => {
    const actor = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id);
    expect(await sqlState(buildTraining(knex, actor.id, model.id, { state: 'X' as 'I' }))).toBe('23514');
    expect(await sqlState(buildTraining(knex, actor.id, model.id, { aggregationMethod: 'FedFoo' as 'FedAvg' }))).toBe(
      '23514',
    );
    expect(await sqlState(buildTraining(knex, actor.id, model.id, { uncertaintyMethod: 'MAGIC' }))).toBe('23514');
    expect(await sqlState(buildTraining(knex, actor.id, model.id, { error: 'not in error state' }))).toBe('23514');
  });

  it('when a model already has a training, a second training of it is refused', async () => {
    const actor = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id);
    await buildTraining(knex, actor.id, model.id);
    expect(await sqlState(buildTraining(knex, actor.id, model.id))).toBe('23505');
  });

  it('when a slot is filled, a second upload for the same training, round, client and phase is refused', async () => {
    const actor = await buildUser(knex);
    const client = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id);
    const training = await buildTraining(knex, actor.id, model.id);
    const slot = { training_id: training.id, round: 0, client_id: client.id, phase: 'update' };
    await knex('uploads').insert({ ...slot, content_digest: digest(), blob_digest: digest() });
    expect(await sqlState(knex('uploads').insert({ ...slot, content_digest: digest() }))).toBe('23505');
    expect(
      await sqlState(knex('uploads').insert({ ...slot, phase: 'test', content_digest: digest() })),
    ).toBeUndefined();
    expect(await sqlState(knex('uploads').insert({ ...slot, phase: 'bogus', content_digest: digest() }))).toBe('23514');
    expect(await sqlState(knex('uploads').insert({ ...slot, round: 1, content_digest: 'short' }))).toBe('23514');
  });

  it('when a local model lacks its base model or sample size, it is refused', async () => {
    const owner = await buildUser(knex);
    const base = await buildGlobalModel(knex, owner.id);
    const local = { type: 'LOCAL', owner_id: owner.id, round: 0 };
    expect(await sqlState(knex('models').insert({ ...local, sample_size: 10 }))).toBe('23514');
    expect(await sqlState(knex('models').insert({ ...local, base_model_id: base.id }))).toBe('23514');
    expect(await sqlState(knex('models').insert({ ...local, base_model_id: base.id, sample_size: 0 }))).toBe('23514');
    expect(await sqlState(knex('models').insert({ ...local, base_model_id: base.id, sample_size: 5 }))).toBeUndefined();
  });

  it('when a metric has both or neither value, it is refused', async () => {
    const owner = await buildUser(knex);
    const model = await buildGlobalModel(knex, owner.id);
    const metric = { model_id: model.id, key: 'accuracy' };
    expect(await sqlState(knex('metrics').insert(metric))).toBe('23514');
    expect(await sqlState(knex('metrics').insert({ ...metric, value_float: 1, value_binary: Buffer.from('x') }))).toBe(
      '23514',
    );
    expect(await sqlState(knex('metrics').insert({ ...metric, value_float: 0.9, content_type: 'text/plain' }))).toBe(
      '23514',
    );
    expect(await sqlState(knex('metrics').insert({ ...metric, value_float: 0.9 }))).toBeUndefined();
  });

  it('when a training is deleted, its participants and uploads go, and its model and users stay', async () => {
    const actor = await buildUser(knex);
    const client = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id);
    const training = await buildTraining(knex, actor.id, model.id);
    await knex('training_participants').insert({ training_id: training.id, user_id: client.id });
    await knex('uploads').insert({
      training_id: training.id,
      round: 0,
      client_id: client.id,
      phase: 'test',
      content_digest: digest(),
    });
    await knex('trainings').where({ id: training.id }).delete();
    expect(await knex('training_participants').where({ training_id: training.id })).toHaveLength(0);
    expect(await knex('uploads').where({ training_id: training.id })).toHaveLength(0);
    expect(await knex('models').where({ id: model.id })).toHaveLength(1);
    expect(await knex('users').whereIn('id', [actor.id, client.id])).toHaveLength(2);
  });

  it('when a local model is deleted after aggregation, its upload slot and metrics stay', async () => {
    const owner = await buildUser(knex);
    const client = await buildUser(knex);
    const base = await buildGlobalModel(knex, owner.id);
    const training = await buildTraining(knex, owner.id, base.id);
    const inserted: Array<{ id: string }> = await knex('models')
      .insert({ type: 'LOCAL', owner_id: client.id, base_model_id: base.id, sample_size: 10 })
      .returning('id');
    const localId = inserted[0]?.id;
    await knex('uploads').insert({
      training_id: training.id,
      round: 0,
      client_id: client.id,
      phase: 'update',
      content_digest: digest(),
      model_id: localId,
    });
    await knex('metrics').insert({ model_id: localId, training_id: training.id, key: 'loss', value_float: 0.5 });
    await knex('models').where({ id: localId }).delete();
    const slots: unknown[] = await knex('uploads').where({ training_id: training.id });
    expect(slots[0]).toMatchObject({ modelId: null, phase: 'update' });
    expect(await knex('metrics').where({ training_id: training.id, key: 'loss' })).toHaveLength(1);
  });

  it('when a refused upload is deleted, the metrics that came with it go too; metrics of no upload stay', async () => {
    const owner = await buildUser(knex);
    const client = await buildUser(knex);
    const model = await buildGlobalModel(knex, owner.id);
    const training = await buildTraining(knex, owner.id, model.id);
    const [upload]: Array<{ id: string }> = await knex('uploads')
      .insert({ training_id: training.id, round: 1, client_id: client.id, phase: 'test', content_digest: digest() })
      .returning('id');
    const target = { model_id: model.id, training_id: training.id, step: 1, reporter_id: client.id };
    await knex('metrics').insert([
      { ...target, key: 'accuracy', value_float: 0.5, upload_id: upload?.id },
      { ...target, key: 'loss', value_float: 0.1, upload_id: upload?.id },
      { ...target, key: 'note', value_float: 1 },
    ]);
    await knex('uploads').where({ id: upload?.id }).delete();
    const left = await knex<{ key: string; training_id: string }>('metrics').where({ training_id: training.id });
    expect(left.map((m) => m.key)).toEqual(['note']);
  });

  it('when a user token is not 40 lowercase hex characters or the endpoint is not http(s), it is refused', async () => {
    expect(await sqlState(buildUser(knex, { token: 'A'.repeat(40) }))).toBe('23514');
    expect(await sqlState(buildUser(knex, { messageEndpoint: 'ftp://example.org' }))).toBe('23514');
    expect(await sqlState(buildUser(knex, { messageEndpoint: 'http://client.example:8101/' }))).toBeUndefined();
    expect(await sqlState(buildUser(knex, { messageEndpoint: 'HTTPS://client.example/notify' }))).toBeUndefined();
  });
});

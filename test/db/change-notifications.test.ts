import type { Knex } from 'knex';
import pg from 'pg';
import { CHANGES_CHANNEL } from '../../src/api/cache/change-feed';
import { insertGlobalModel, insertVersion } from '../../src/db/queries/models';
import { buildApiUser } from '../fixtures/api-app';
import { createTestKnex } from '../support/db';
import { testEnv } from '../support/test-env';

const WEIGHTS = { digest: 'a'.repeat(64), size: 4 };

describe('change notifications of model versions', () => {
  let knex: Knex;
  let listener: pg.Client;
  const heard: string[] = [];

  beforeAll(async () => {
    knex = createTestKnex();
    listener = new pg.Client({ connectionString: testEnv('databaseUrl') });
    await listener.connect();
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
  });

  afterAll(async () => {
    await listener.end();
    await knex.destroy();
  });

  /**
   * What was announced by everything committed before this call: a marker is announced last, and a listening session
   * gets notifications in commit order, so everything before it has arrived once it has.
   */
  async function announcedSoFar(): Promise<string[]> {
    const marker = `marker:${Math.random()}`;
    await knex.raw('SELECT pg_notify(?, ?)', [CHANGES_CHANNEL, marker]);
    while (!heard.includes(marker)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return heard.splice(0, heard.length).filter((key) => key !== marker);
  }

  it("announces a global model's versions, but not the one a local update is created with", async () => {
    const owner = await buildApiUser(knex);
    await announcedSoFar();
    const global = await insertGlobalModel(
      knex,
      {
        type: 'GLOBAL',
        ownerId: owner.id,
        name: 'global',
        description: '',
        round: 0,
        inputShape: null,
        preprocessingDigest: null,
        manifest: null,
        graphDigest: null,
        format: 'onnx',
      },
      WEIGHTS,
    );
    expect(await announcedSoFar()).toContain(`model:${global.id}`);

    // As an upload does: the update and its only version in one transaction.
    const localId = await knex.transaction(async (trx) => {
      const [row] = await trx('models')
        .insert({ type: 'LOCAL', owner_id: owner.id, base_model_id: global.id, round: 1, sample_size: 10 })
        .returning<Array<{ id: string }>>('id');
      await insertVersion(trx, row!.id, 1, WEIGHTS);
      return row!.id;
    });
    expect(await announcedSoFar()).not.toContain(`model:${localId}`);

    // Once it exists, a cache may hold it: any later change to its version is announced.
    await knex('model_versions').where({ model_id: localId }).update({ weights_size: 5 });
    expect(await announcedSoFar()).toContain(`model:${localId}`);
    await insertVersion(knex, global.id, 1, WEIGHTS);
    expect(await announcedSoFar()).toContain(`model:${global.id}`);
  });
});

import { migrateLatest } from '../../src/db/migrate';
import { Training } from '../../src/db/models/training';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createScratchDatabase, migrateUpTo } from '../support/db';

/** The migration before 20261206100000_training_workflow_ids, which fills in the workflow ids never written. */
const BEFORE = '20261205100000_quiet_local_versions';

describe('migration 20261206100000_training_workflow_ids', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });

  afterAll(async () => {
    await scratch.drop();
  });

  it('when trainings have left INITIAL, each gets training-<id>; an INITIAL one and a recorded one stay as they are', async () => {
    const { knex } = scratch;
    await migrateUpTo(knex, BEFORE);
    const actor = await buildUser(knex);
    // A model has one training at most.
    const training = async (overrides: Partial<Training> = {}): Promise<Training> =>
      await buildTraining(knex, actor.id, (await buildGlobalModel(knex, actor.id)).id, overrides);
    const initial = await training();
    const ongoing = await training({ state: 'O' });
    const completed = await training({ state: 'C' });
    const recorded = await training({ state: 'O', workflowId: 'named-elsewhere' });

    expect(await migrateLatest(knex)).toEqual(['20261206100000_training_workflow_ids']);

    const ids = Object.fromEntries(
      (await Training.query(knex).select('id', 'workflowId')).map((row) => [row.id, row.workflowId]),
    );
    expect(ids).toEqual({
      [initial.id]: null,
      [ongoing.id]: `training-${ongoing.id}`,
      [completed.id]: `training-${completed.id}`,
      [recorded.id]: 'named-elsewhere',
    });
  });
});

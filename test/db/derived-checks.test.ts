import type { Knex } from 'knex';
import { AGGREGATION_METHODS, type AggregationMethod } from '../../src/aggregation/strategies/registry';
import { syncDerivedChecks } from '../../src/db/derived-checks';
import { migrateLatest } from '../../src/db/migrate';
import { TRAINING_STATES } from '../../src/training-states';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createScratchDatabase } from '../support/db';

/** Inserts a training with `method`; resolves with the SQLSTATE of the refusal, or undefined when it was stored. */
async function refusalOfMethod(knex: Knex, method: string): Promise<string | undefined> {
  const actor = await buildUser(knex);
  const model = await buildGlobalModel(knex, actor.id);
  try {
    // The type allows only the registry's methods; the database must refuse the others by itself.
    await buildTraining(knex, actor.id, model.id, { aggregationMethod: method as AggregationMethod });
    return undefined;
  } catch (err) {
    const wrapped = err as { code?: string; nativeError?: { code?: string } };
    return wrapped.nativeError?.code ?? wrapped.code;
  }
}

describe('CHECKs derived from the code (aggregation methods, training states)', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await migrateLatest(scratch.knex);
  });

  afterAll(async () => {
    await scratch.drop();
  });

  it('when migrated, a training takes every method of the strategy registry and no other', async () => {
    for (const method of AGGREGATION_METHODS) {
      expect([method, await refusalOfMethod(scratch.knex, method)]).toEqual([method, undefined]);
    }
    expect(await refusalOfMethod(scratch.knex, 'FedSomething')).toBe('23514');
    // In step already: nothing to replace.
    expect(await syncDerivedChecks(scratch.knex)).toEqual([]);
  });

  it('when a CHECK allows other values than the code (an older list), the next migrate replaces it with the code’s', async () => {
    await scratch.knex('trainings').delete();
    await scratch.knex.raw('ALTER TABLE trainings DROP CONSTRAINT trainings_aggregation_method');
    await scratch.knex.raw(
      "ALTER TABLE trainings ADD CONSTRAINT trainings_aggregation_method CHECK (aggregation_method IN ('FedAvg'))",
    );
    await scratch.knex.raw('ALTER TABLE trainings DROP CONSTRAINT trainings_state');
    await scratch.knex.raw("ALTER TABLE trainings ADD CONSTRAINT trainings_state CHECK (state IN ('I', 'O', 'X'))");
    expect(await refusalOfMethod(scratch.knex, 'Bulyan')).toBe('23514');

    expect(await migrateLatest(scratch.knex)).toEqual([]);
    expect(await refusalOfMethod(scratch.knex, 'Bulyan')).toBeUndefined();
    const states = await scratch.knex.raw<{ rows: Array<{ def: string }> }>(
      "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'trainings_state'",
    );
    const def = states.rows[0]?.def ?? '';
    expect(TRAINING_STATES.every((state) => def.includes(`'${state}'`))).toBe(true);
    expect(def).not.toContain("'X'");
    expect(await syncDerivedChecks(scratch.knex)).toEqual([]);
  });
});

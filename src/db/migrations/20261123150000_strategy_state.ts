import type { Knex } from 'knex';

/**
 * A version made by a stateful strategy (FedAvgM, FedOpt) records the blob of the strategy state it left for the
 * next round: a retried aggregation answers with it, and the blob sweep keeps it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('model_versions', (t) => {
    t.specificType('strategy_state_digest', 'char(64)').nullable();
  });
  await knex.raw(
    "ALTER TABLE model_versions ADD CONSTRAINT model_versions_state_digest CHECK (strategy_state_digest IS NULL OR strategy_state_digest ~ '^[0-9a-f]{64}$')",
  );
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE model_versions DROP CONSTRAINT model_versions_state_digest');
  await knex.schema.alterTable('model_versions', (t) => {
    t.dropColumn('strategy_state_digest');
  });
}

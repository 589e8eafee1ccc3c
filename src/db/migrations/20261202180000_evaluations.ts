import type { Knex } from 'knex';

/**
 * The server's evaluation of each global model version of a training on its evaluation dataset
 * (docs/training.md#server-evaluation): one row per (training, version round), done with the figures in `metrics`
 * (reporter null), or failed with the reason, so a round without figures says why.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('evaluations', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('training_id').notNullable().references('trainings.id').onDelete('CASCADE');
    t.integer('round').notNullable();
    t.text('state').notNullable();
    t.text('error').nullable();
    t.integer('rows').nullable();
    t.integer('duration_ms').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['training_id', 'round']);
  });
  await knex.raw(`
    ALTER TABLE evaluations
      ADD CONSTRAINT evaluations_state CHECK (state IN ('done', 'failed')),
      ADD CONSTRAINT evaluations_error CHECK ((state = 'failed') = (error IS NOT NULL)),
      ADD CONSTRAINT evaluations_round CHECK (round >= 0)
  `);
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('evaluations');
}

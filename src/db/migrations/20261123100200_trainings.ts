import type { Knex } from 'knex';

const AGGREGATION_METHODS = [
  'FedAvg',
  'FedProx',
  'FedDC',
  'FedAvgM',
  'FedAdagrad',
  'FedAdam',
  'FedYogi',
  'FedMedian',
  'FedTrimmedAvg',
  'Krum',
  'MultiKrum',
  'Bulyan',
];
const UNCERTAINTY_METHODS = ['NONE', 'ENSEMBLE', 'MC_DROPOUT', 'SWAG'];

const sqlList = (values: string[]): string => values.map((v) => `'${v}'`).join(', ');

/** Trainings and their participants. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('trainings', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // One-letter states as the reference: Initial, Ongoing, Completed, Error, Swag round.
    t.specificType('state', 'char(1)').notNullable().defaultTo('I');
    t.integer('target_num_updates').notNullable();
    t.string('aggregation_method', 32).notNullable().defaultTo('FedAvg');
    t.string('uncertainty_method', 32).notNullable().defaultTo('NONE');
    t.jsonb('options').notNullable().defaultTo('{}');
    t.uuid('actor_id').notNullable().references('users.id').onDelete('CASCADE');
    // One training per model; deleting the model deletes its training, as the reference does.
    t.uuid('model_id').notNullable().unique().references('models.id').onDelete('CASCADE');
    t.text('workflow_id').nullable().unique();
    t.text('error').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['actor_id']);
  });
  await knex.raw(`
    ALTER TABLE trainings
      ADD CONSTRAINT trainings_state CHECK (state IN ('I', 'O', 'C', 'E', 'S')),
      ADD CONSTRAINT trainings_target CHECK (target_num_updates >= 0),
      ADD CONSTRAINT trainings_aggregation_method CHECK (aggregation_method IN (${sqlList(AGGREGATION_METHODS)})),
      ADD CONSTRAINT trainings_uncertainty_method CHECK (uncertainty_method IN (${sqlList(UNCERTAINTY_METHODS)})),
      ADD CONSTRAINT trainings_options_object CHECK (jsonb_typeof(options) = 'object'),
      ADD CONSTRAINT trainings_error_only_in_error CHECK (error IS NULL OR state = 'E')
  `);

  await knex.schema.createTable('training_participants', (t) => {
    t.uuid('training_id').notNullable().references('trainings.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['training_id', 'user_id']);
    t.index(['user_id']);
  });
}

/** Drops what `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('training_participants');
  await knex.schema.dropTable('trainings');
}

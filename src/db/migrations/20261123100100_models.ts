import type { Knex } from 'knex';

const DIGEST = `~ '^[0-9a-f]{64}$'`;

/** Models (global, local updates, SWAG, mean ensembles), their sub-models and their per-round versions. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('models', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('type').notNullable();
    // Deleting a user deletes what they own, as the reference does.
    t.uuid('owner_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('name', 256).notNullable().defaultTo('');
    t.text('description').notNullable().defaultTo('');
    // The current round: for a global model the round its clients train; for an update the round it was trained for.
    t.integer('round').notNullable().defaultTo(0);
    // An update belongs to the global model it was trained from; it goes when that model goes.
    t.uuid('base_model_id').nullable().references('models.id').onDelete('CASCADE');
    // Array of integers or nulls (the batch dimension), as the reference's input_shape.
    t.jsonb('input_shape').nullable();
    t.specificType('preprocessing_digest', 'char(64)').nullable();
    // Ordered (initializer name, dtype, shape) list; an update must match its global model's exactly.
    t.jsonb('manifest').nullable();
    t.specificType('graph_digest', 'char(64)').nullable();
    t.integer('sample_size').nullable();
    t.specificType('swag_first_moment_digest', 'char(64)').nullable();
    t.specificType('swag_second_moment_digest', 'char(64)').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['owner_id']);
    t.index(['base_model_id']);
  });
  await knex.raw(`
    ALTER TABLE models
      ADD CONSTRAINT models_type CHECK (type IN ('GLOBAL', 'LOCAL', 'SWAG', 'MEAN')),
      ADD CONSTRAINT models_round CHECK (round >= 0),
      ADD CONSTRAINT models_local_has_base CHECK ((type = 'LOCAL') = (base_model_id IS NOT NULL)),
      ADD CONSTRAINT models_local_sample_size CHECK (
        (type = 'LOCAL' AND sample_size IS NOT NULL AND sample_size > 0) OR (type <> 'LOCAL' AND sample_size IS NULL)),
      ADD CONSTRAINT models_input_shape_array CHECK (input_shape IS NULL OR jsonb_typeof(input_shape) = 'array'),
      ADD CONSTRAINT models_manifest_array CHECK (manifest IS NULL OR jsonb_typeof(manifest) = 'array'),
      ADD CONSTRAINT models_graph_digest CHECK (graph_digest IS NULL OR graph_digest ${DIGEST}),
      ADD CONSTRAINT models_preprocessing_digest CHECK (preprocessing_digest IS NULL OR preprocessing_digest ${DIGEST}),
      ADD CONSTRAINT models_swag_moments CHECK (
        (swag_first_moment_digest IS NULL) = (swag_second_moment_digest IS NULL)
        AND (swag_first_moment_digest IS NULL OR (type = 'SWAG'
          AND swag_first_moment_digest ${DIGEST} AND swag_second_moment_digest ${DIGEST})))
  `);

  await knex.schema.createTable('mean_model_members', (t) => {
    t.uuid('mean_model_id').notNullable().references('models.id').onDelete('CASCADE');
    // A member cannot be deleted while an ensemble uses it.
    t.uuid('member_model_id').notNullable().references('models.id').onDelete('RESTRICT');
    t.integer('position').notNullable();
    t.primary(['mean_model_id', 'member_model_id']);
    t.unique(['mean_model_id', 'position']);
  });

  await knex.schema.createTable('model_versions', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('model_id').notNullable().references('models.id').onDelete('CASCADE');
    t.integer('round').notNullable();
    t.specificType('weights_digest', 'char(64)').notNullable();
    t.bigInteger('weights_size').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // One version per round: an aggregation that is retried writes the same row, never a second one.
    t.unique(['model_id', 'round']);
    t.index(['weights_digest']);
  });
  await knex.raw(`
    ALTER TABLE model_versions
      ADD CONSTRAINT model_versions_round CHECK (round >= 0),
      ADD CONSTRAINT model_versions_size CHECK (weights_size >= 0),
      ADD CONSTRAINT model_versions_digest CHECK (weights_digest ${DIGEST})
  `);
}

/** Drops what `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('model_versions');
  await knex.schema.dropTable('mean_model_members');
  await knex.schema.dropTable('models');
}

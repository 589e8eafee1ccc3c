import type { Knex } from 'knex';

/** The dtypes a dataset tensor may have (src/datasets/dtypes.ts). */
const DTYPES = `('float16', 'float32', 'float64', 'uint8', 'int8', 'int16', 'int32', 'int64')`;

/**
 * Server-held datasets (docs/api.md#datasets): a user's `x` and `y` tensors, stored as one safetensors blob, with the
 * metadata the API lists. Integer ids, as the seed-004 client converts dataset keys with int(). A training names one
 * in `options.evaluation_dataset` (a JSON number); the expression index serves the checks of who may see a dataset
 * through the trainings that name it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('datasets', (t) => {
    t.increments('id').primary();
    // Deleting a user deletes what they own, as for models.
    t.uuid('owner_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('name', 256).notNullable();
    t.text('description').notNullable().defaultTo('');
    t.integer('rows').notNullable();
    t.text('x_dtype').notNullable();
    // The full shapes, rows first.
    t.jsonb('x_shape').notNullable();
    t.text('y_dtype').notNullable();
    t.jsonb('y_shape').notNullable();
    t.boolean('share_with_participants').notNullable().defaultTo(false);
    t.specificType('blob_digest', 'char(64)').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['owner_id']);
  });
  await knex.raw(`
    ALTER TABLE datasets
      ADD CONSTRAINT datasets_rows CHECK (rows >= 1),
      ADD CONSTRAINT datasets_dtypes CHECK (x_dtype IN ${DTYPES} AND y_dtype IN ${DTYPES}),
      ADD CONSTRAINT datasets_shapes CHECK (
        jsonb_typeof(x_shape) = 'array' AND jsonb_typeof(y_shape) = 'array'
        AND x_shape->0 = to_jsonb(rows) AND y_shape->0 = to_jsonb(rows)
        AND jsonb_array_length(y_shape) BETWEEN 1 AND 2),
      ADD CONSTRAINT datasets_blob_digest CHECK (blob_digest ~ '^[0-9a-f]{64}$')
  `);
  await knex.raw(`
    CREATE INDEX trainings_evaluation_dataset ON trainings ((options->>'evaluation_dataset'))
     WHERE (options->>'evaluation_dataset') IS NOT NULL
  `);
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX trainings_evaluation_dataset');
  await knex.schema.dropTable('datasets');
}

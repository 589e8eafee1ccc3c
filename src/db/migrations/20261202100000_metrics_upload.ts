import type { Knex } from 'knex';

/**
 * Metrics that came with an upload (an update's metrics, model-test results) name it: when the run refuses the upload
 * and its slot is given back, its metrics go with it, so a client's next try of the slot does not count them twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('metrics', (t) => {
    t.uuid('upload_id').nullable().references('uploads.id').onDelete('CASCADE');
    t.index(['upload_id']);
  });
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('metrics', (t) => {
    t.dropIndex(['upload_id']);
    t.dropColumn('upload_id');
  });
}

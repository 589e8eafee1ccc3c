import type { Knex } from 'knex';

/** Uploads keep the sample size they were sent with, so the workflow weighs updates and SWAG moments without joins. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uploads', (t) => {
    t.integer('sample_size').nullable();
  });
  await knex.raw(
    'ALTER TABLE uploads ADD CONSTRAINT uploads_sample_size CHECK (sample_size IS NULL OR sample_size > 0)',
  );
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE uploads DROP CONSTRAINT uploads_sample_size');
  await knex.schema.alterTable('uploads', (t) => {
    t.dropColumn('sample_size');
  });
}

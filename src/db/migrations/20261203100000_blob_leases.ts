import type { Knex } from 'knex';

/**
 * Write leases on blob digests (docs/configuration.md#where-things-are): a writer holds one from the moment its bytes
 * are whole until the row that refers to them has long been committed, and the sweep never deletes a leased digest.
 * Several writers of the same bytes each hold their own.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('blob_leases', (t) => {
    t.text('digest').notNullable();
    t.uuid('holder').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['digest', 'holder']);
    t.index(['expires_at']);
  });
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('blob_leases');
}

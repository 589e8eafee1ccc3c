import type { Knex } from 'knex';

/**
 * A training may name a group (docs/api.md#trainings): its members may join the training themselves. Deleting the
 * group keeps the training and its participants; only the way in closes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('trainings', (t) => {
    t.integer('group_id').nullable().references('groups.id').onDelete('SET NULL');
    t.index(['group_id']);
  });
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('trainings', (t) => {
    t.dropIndex(['group_id']);
    t.dropColumn('group_id');
  });
}

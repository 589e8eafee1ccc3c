import type { Knex } from 'knex';

/**
 * `trainings.workflow_id` was never written; a training now records its workflow when it starts. Trainings started
 * before that get theirs here: every training that left INITIAL runs (or ran) as `training-<id>`, the only name the
 * orchestrator ever gave one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`UPDATE trainings SET workflow_id = 'training-' || id WHERE state <> 'I' AND workflow_id IS NULL`);
}

/** Nothing to undo: the ids filled in name the trainings' workflows, as the code before this migration would have. */
export async function down(): Promise<void> {
  // The column stays as it is.
}

import type { Knex } from 'knex';

/**
 * What a model's weights are (docs/pytorch.md): an ONNX model, or a PyTorch TorchScript or state-dict archive.
 * Inference and server-side evaluation run ONNX models only. Every model stored before is ONNX.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('models', (t) => {
    t.text('format').notNullable().defaultTo('onnx');
  });
  await knex.raw(
    `ALTER TABLE models ADD CONSTRAINT models_format CHECK (format IN ('onnx', 'torchscript', 'torch_state_dict'))`,
  );
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('models', (t) => {
    t.dropColumn('format');
  });
}

import type { Knex } from 'knex';

const DIGEST = `~ '^[0-9a-f]{64}$'`;
const NOTIFICATION_TYPES = [
  'UPDATE_ROUND_START',
  'SWAG_ROUND_START',
  'TRAINING_START',
  'TRAINING_FINISHED',
  'CLIENT_REMOVED',
  'MODEL_TEST_ROUND',
];

/** Upload slots, metrics and notifications. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uploads', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('training_id').notNullable().references('trainings.id').onDelete('CASCADE');
    t.integer('round').notNullable();
    t.uuid('client_id').notNullable().references('users.id').onDelete('CASCADE');
    // update: a local model; test: model-test metrics; swag: first and second moments.
    t.text('phase').notNullable();
    // Digest of exactly what was uploaded: an exact retry matches it, different bytes in a filled slot do not.
    t.specificType('content_digest', 'char(64)').notNullable();
    // The local model row of an update; SET NULL keeps the slot filled after local models are deleted.
    t.uuid('model_id').nullable().references('models.id').onDelete('SET NULL');
    t.specificType('blob_digest', 'char(64)').nullable();
    t.specificType('second_blob_digest', 'char(64)').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The slot: one upload per (training, round, client, phase).
    t.unique(['training_id', 'round', 'client_id', 'phase']);
  });
  await knex.raw(`
    ALTER TABLE uploads
      ADD CONSTRAINT uploads_phase CHECK (phase IN ('update', 'test', 'swag')),
      ADD CONSTRAINT uploads_round CHECK (round >= 0),
      ADD CONSTRAINT uploads_content_digest CHECK (content_digest ${DIGEST}),
      ADD CONSTRAINT uploads_blob_digest CHECK (blob_digest IS NULL OR blob_digest ${DIGEST}),
      ADD CONSTRAINT uploads_second_blob_digest CHECK (second_blob_digest IS NULL OR second_blob_digest ${DIGEST}),
      ADD CONSTRAINT uploads_swag_moments CHECK ((phase = 'swag') = (second_blob_digest IS NOT NULL))
  `);

  await knex.schema.createTable('metrics', (t) => {
    t.bigIncrements('id').primary();
    // Metrics outlive the local model they came with: deleting it after aggregation keeps them.
    t.uuid('model_id').nullable().references('models.id').onDelete('SET NULL');
    t.uuid('training_id').nullable().references('trainings.id').onDelete('CASCADE');
    t.string('key', 64).notNullable();
    t.double('value_float').nullable();
    t.binary('value_binary').nullable();
    t.string('content_type', 255).nullable();
    t.integer('step').nullable();
    t.uuid('reporter_id').nullable().references('users.id').onDelete('SET NULL');
    t.string('identifier', 64).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['model_id']);
    t.index(['training_id']);
  });
  await knex.raw(`
    ALTER TABLE metrics
      ADD CONSTRAINT metrics_one_value CHECK ((value_float IS NULL) <> (value_binary IS NULL)),
      ADD CONSTRAINT metrics_content_type_binary_only CHECK (content_type IS NULL OR value_binary IS NOT NULL),
      ADD CONSTRAINT metrics_belongs CHECK (model_id IS NOT NULL OR training_id IS NOT NULL)
  `);

  await knex.schema.createTable('notifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('receiver_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('training_id').notNullable().references('trainings.id').onDelete('CASCADE');
    t.text('type').notNullable();
    t.jsonb('body').notNullable();
    // PENDING: to push; DELIVERED: pushed and answered 2xx; FAILED: retries exhausted; PULL: no endpoint, the client polls.
    t.text('delivery_state').notNullable().defaultTo('PENDING');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.boolean('acknowledged').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('delivered_at', { useTz: true }).nullable();
    t.timestamp('acknowledged_at', { useTz: true }).nullable();
    t.index(['receiver_id', 'acknowledged']);
    t.index(['training_id']);
  });
  await knex.raw(`
    ALTER TABLE notifications
      ADD CONSTRAINT notifications_type CHECK (type IN (${NOTIFICATION_TYPES.map((v) => `'${v}'`).join(', ')})),
      ADD CONSTRAINT notifications_delivery_state CHECK (delivery_state IN ('PENDING', 'DELIVERED', 'FAILED', 'PULL')),
      ADD CONSTRAINT notifications_attempts CHECK (attempts >= 0),
      ADD CONSTRAINT notifications_body_object CHECK (jsonb_typeof(body) = 'object'),
      ADD CONSTRAINT notifications_ack CHECK (acknowledged = (acknowledged_at IS NOT NULL))
  `);
}

/** Drops what `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notifications');
  await knex.schema.dropTable('metrics');
  await knex.schema.dropTable('uploads');
}

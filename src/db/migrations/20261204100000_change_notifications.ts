import type { Knex } from 'knex';

/** The channel every change that an API process may have cached is announced on (src/api/cache/change-feed.ts). */
const CHANNEL = 'roundhouse_changes';

/**
 * Change notifications for the API's caches (docs/architecture.md#caches): every row change a cached token, session,
 * model, version or training depends on is announced on one channel, as `kind:id` (`user:…`, `session:…`,
 * `model:…`, `training:…`), once per transaction and key, when the transaction commits; each API process drops
 * what it holds under that key. A new training, version or ensemble member announces its model, whose cached
 * relations it changes; a participant added or removed announces its training.
 */
const TRIGGERS: ReadonlyArray<{ table: string; events: string; keys: readonly string[]; when?: string }> = [
  { table: 'users', events: 'UPDATE OR DELETE', keys: [`'user:' || OLD.id`] },
  {
    table: 'sessions',
    events: 'UPDATE OR DELETE',
    keys: [`'session:' || OLD.key_hash`],
    // Recording a session's use (last_used_at) changes nothing a cache holds.
    when: 'OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.csrf_token IS DISTINCT FROM NEW.csrf_token',
  },
  { table: 'models', events: 'UPDATE OR DELETE', keys: [`'model:' || OLD.id`] },
  { table: 'model_versions', events: 'INSERT OR UPDATE OR DELETE', keys: [`'model:' || ROW.model_id`] },
  { table: 'mean_model_members', events: 'INSERT OR UPDATE OR DELETE', keys: [`'model:' || ROW.mean_model_id`] },
  {
    table: 'trainings',
    events: 'INSERT OR UPDATE OR DELETE',
    keys: [`'training:' || ROW.id`, `'model:' || ROW.model_id`],
  },
  { table: 'training_participants', events: 'INSERT OR UPDATE OR DELETE', keys: [`'training:' || ROW.training_id`] },
];

export async function up(knex: Knex): Promise<void> {
  for (const { table, events, keys, when } of TRIGGERS) {
    // ROW is the new row, or the old one for a delete; an update that moves a row to another key announces both.
    const announce = (row: 'NEW' | 'OLD'): string =>
      keys.map((key) => `PERFORM pg_notify('${CHANNEL}', ${key.replace(/\b(ROW|OLD)\./g, `${row}.`)});`).join('\n');
    const onNew = keys.some((key) => key.includes('ROW.'))
      ? `IF TG_OP <> 'DELETE' THEN ${announce('NEW')} END IF;`
      : '';
    await knex.raw(`
      CREATE FUNCTION roundhouse_announce_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN ${announce('OLD')} END IF;
        ${onNew}
        RETURN NULL;
      END $$
    `);
    if (when) {
      // A WHEN condition may not name OLD on a DELETE: the update and the delete get a trigger each.
      await knex.raw(`
        CREATE TRIGGER ${table}_announce_update AFTER UPDATE ON ${table}
          FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION roundhouse_announce_${table}()
      `);
      await knex.raw(`
        CREATE TRIGGER ${table}_announce_delete AFTER DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION roundhouse_announce_${table}()
      `);
    } else {
      await knex.raw(`
        CREATE TRIGGER ${table}_announce AFTER ${events} ON ${table}
          FOR EACH ROW EXECUTE FUNCTION roundhouse_announce_${table}()
      `);
    }
  }
}

/** Undoes `up`. */
export async function down(knex: Knex): Promise<void> {
  for (const { table } of TRIGGERS) {
    await knex.raw(`DROP FUNCTION roundhouse_announce_${table}() CASCADE`);
  }
}

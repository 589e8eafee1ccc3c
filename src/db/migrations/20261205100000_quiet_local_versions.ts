import type { Knex } from 'knex';

/**
 * A local update's version is written in the transaction that creates the update (upload-update.ts) and never
 * changes: no API process can hold the model before then (a cache keeps no miss), so announcing it only moved every
 * process's change counter, about once per upload; a load that overlaps any change is not cached, so a round's
 * upload burst kept the caches from filling. Versions of every other model are announced as before.
 */
const ANNOUNCE_MODEL_VERSIONS = (skipLocalInserts: boolean): string => `
  CREATE OR REPLACE FUNCTION roundhouse_announce_model_versions() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('roundhouse_changes', 'model:' || OLD.model_id); END IF;
    IF TG_OP <> 'DELETE' ${
      skipLocalInserts
        ? `AND NOT (TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM models WHERE id = NEW.model_id AND type = 'LOCAL'))`
        : ''
    } THEN
      PERFORM pg_notify('roundhouse_changes', 'model:' || NEW.model_id);
    END IF;
    RETURN NULL;
  END $$
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(ANNOUNCE_MODEL_VERSIONS(true));
}

/** Undoes `up`: every version change is announced again. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(ANNOUNCE_MODEL_VERSIONS(false));
}

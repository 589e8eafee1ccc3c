import type { Knex } from 'knex';

/** Every blob digest a row refers to: the sweep keeps exactly these. */
export async function listReferencedDigests(knex: Knex): Promise<Set<string>> {
  const result = await knex.raw<{ rows: Array<{ digest: string }> }>(`
    SELECT weights_digest AS digest FROM model_versions
    UNION SELECT strategy_state_digest FROM model_versions WHERE strategy_state_digest IS NOT NULL
    UNION SELECT preprocessing_digest FROM models WHERE preprocessing_digest IS NOT NULL
    UNION SELECT swag_first_moment_digest FROM models WHERE swag_first_moment_digest IS NOT NULL
    UNION SELECT swag_second_moment_digest FROM models WHERE swag_second_moment_digest IS NOT NULL
    UNION SELECT blob_digest FROM uploads WHERE blob_digest IS NOT NULL
    UNION SELECT second_blob_digest FROM uploads WHERE second_blob_digest IS NOT NULL
    UNION SELECT blob_digest FROM datasets
  `);
  return new Set(result.rows.map((row) => row.digest));
}

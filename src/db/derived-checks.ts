import type { Knex } from 'knex';
import { AGGREGATION_METHODS } from '../aggregation/strategies/registry';
import { TRAINING_STATES } from '../training-states';

/** A CHECK constraint that allows a column exactly the values a list in the code holds. */
interface DerivedCheck {
  readonly table: string;
  readonly constraint: string;
  readonly column: string;
  readonly values: readonly string[];
}

/**
 * The CHECKs whose values come from the code rather than from a migration: the strategy registry's methods and the
 * training states. A migration would freeze the list of its day; these follow the code on every migrate.
 */
const DERIVED_CHECKS: readonly DerivedCheck[] = [
  {
    table: 'trainings',
    constraint: 'trainings_aggregation_method',
    column: 'aggregation_method',
    values: AGGREGATION_METHODS,
  },
  { table: 'trainings', constraint: 'trainings_state', column: 'state', values: TRAINING_STATES },
];

/**
 * Makes each derived CHECK allow exactly its list, replacing a constraint that allows other values (in one
 * transaction, so the table is never left unchecked). A stored row with a value the code no longer knows makes the
 * replacement fail, which is the point: that row needs a data migration first.
 * @returns the constraints replaced.
 */
export async function syncDerivedChecks(knex: Knex): Promise<string[]> {
  const replaced: string[] = [];
  for (const check of DERIVED_CHECKS) {
    const allowed = await allowedValues(knex, check);
    if (allowed !== undefined && sameSet(allowed, check.values)) {
      continue;
    }
    const list = check.values.map((value) => knex.raw('?', [value]).toQuery()).join(', ');
    await knex.transaction(async (trx) => {
      await trx.raw('ALTER TABLE ?? DROP CONSTRAINT IF EXISTS ??', [check.table, check.constraint]);
      await trx.raw(`ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? IN (${list}))`, [
        check.table,
        check.constraint,
        check.column,
      ]);
    });
    replaced.push(check.constraint);
  }
  return replaced;
}

/** The quoted values of a CHECK's definition, or undefined when it does not exist. */
async function allowedValues(knex: Knex, check: DerivedCheck): Promise<string[] | undefined> {
  const result = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
       WHERE c.conname = ? AND c.conrelid = ?::regclass`,
    [check.constraint, check.table],
  );
  const def = result.rows[0]?.def;
  return def === undefined ? undefined : [...def.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((value) => left.has(value));
}

import { violatedConstraint } from '../../db/constraint-errors';
import { alreadyExists, type AppError, conflict, invalidInput, notFound } from '../../errors';

/**
 * Objection's database-error recipe: constraint violations that reach the edge become 4xx answers. Matched on the
 * error's name (db-errors classes), not `instanceof` (docs/development.md#style).
 */
export function translateDbError(err: unknown): AppError | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  switch (violatedConstraint(err) ?? name) {
    case 'unique':
      return alreadyExists('The resource already exists.', err);
    case 'foreignKey':
      return conflict('The resource is referenced by, or refers to, another one.', err);
    case 'NotNullViolationError':
    case 'CheckViolationError':
    case 'DataError':
      return invalidInput(`Invalid value: ${constraintOf(err)}.`, undefined, err);
    case 'NotFoundError':
      return notFound('Not found.', err);
    default:
      return undefined;
  }
}

function constraintOf(err: unknown): string {
  const { constraint, column } = (err ?? {}) as { constraint?: unknown; column?: unknown };
  if (typeof constraint === 'string') {
    return constraint;
  }
  return typeof column === 'string' ? column : 'a constraint failed';
}

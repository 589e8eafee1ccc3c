import { violatedConstraint } from '../../db/constraint-errors';
import { AppError } from '../../errors';

/**
 * Objection's database-error recipe: constraint violations that reach the edge become 4xx answers. Matched on the
 * error's name (db-errors classes), not `instanceof`, as style.md asks.
 */
export function translateDbError(err: unknown): AppError | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  switch (violatedConstraint(err) ?? name) {
    case 'unique':
      return new AppError({ code: 'already_exists', status: 409, message: 'The resource already exists.', cause: err });
    case 'foreignKey':
      return new AppError({
        code: 'conflict',
        status: 409,
        message: 'The resource is referenced by, or refers to, another one.',
        cause: err,
      });
    case 'NotNullViolationError':
    case 'CheckViolationError':
    case 'DataError':
      return new AppError({
        code: 'invalid_input',
        status: 400,
        message: `Invalid value: ${constraintOf(err)}.`,
        cause: err,
      });
    case 'NotFoundError':
      return new AppError({ code: 'not_found', status: 404, message: 'Not found.', cause: err });
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

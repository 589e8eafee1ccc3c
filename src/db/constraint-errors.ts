/**
 * Postgres SQLSTATEs of the constraint violations the API answers as client errors. db-errors names its classes by
 * parsing the server's message, which fails for values it cannot read back (a name with a quote, a line break or
 * characters outside its pattern): the error is then a bare `ConstraintViolationError`, but its native error still
 * carries the SQLSTATE.
 */
const SQLSTATE = { unique: '23505', foreignKey: '23503', restrict: '23001' } as const;

/** The kind of constraint `err` violated, whether db-errors recognised it or not. */
export function violatedConstraint(err: unknown): 'unique' | 'foreignKey' | undefined {
  const { name, nativeError, code } = (err ?? {}) as { name?: unknown; nativeError?: unknown; code?: unknown };
  const sqlstate = (nativeError as { code?: unknown } | undefined)?.code ?? code;
  if (name === 'UniqueViolationError' || sqlstate === SQLSTATE.unique) {
    return 'unique';
  }
  if (name === 'ForeignKeyViolationError' || sqlstate === SQLSTATE.foreignKey || sqlstate === SQLSTATE.restrict) {
    return 'foreignKey';
  }
  return undefined;
}

/** True when `err` is a unique violation (a taken name, a filled slot). */
export function isUniqueViolation(err: unknown): boolean {
  return violatedConstraint(err) === 'unique';
}

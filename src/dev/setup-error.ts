/**
 * Thrown when the machine is not set up for what was asked (a folder the embedded Postgres cannot reach): the
 * launcher prints its message as one line saying what to do, with no stack trace.
 */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** True for a SetupError from any realm. */
export function isSetupError(err: unknown): err is SetupError {
  return err instanceof Error && err.name === 'SetupError';
}

import { RoundhouseApiError, RoundhouseConnectionError } from '../../client/errors';

/** What a client command's exit code says (docs/cli.md#exit-codes). */
export const EXIT = {
  OK: 0,
  /** Anything else: a file that cannot be read or written, an unexpected answer. */
  FAILED: 1,
  /** A mistake in the command line. */
  USAGE: 2,
  /** No credentials, or the server refused them (401). */
  NOT_AUTHENTICATED: 3,
  /** The server refused the request (another 4xx): not found, invalid, forbidden, conflict. */
  REFUSED: 4,
  /** The server could not be reached, or was unavailable (5xx, 503 after the retries). */
  UNAVAILABLE: 5,
  /** `trainings watch`: the training ended in error. */
  TRAINING_FAILED: 6,
} as const;

/** The exit codes as `roundhouse --help` lists them. */
export const EXIT_CODES_HELP = `
Exit codes of the client commands:
  0  success
  1  another failure (a file that cannot be read or written, a config file others can read)
  2  usage error
  3  not authenticated: no credentials, or the server refused them (401)
  4  refused by the server (400, 403, 404, 409, ...): its detail is printed on stderr
  5  server unreachable or unavailable (connection refused, 5xx, 503 after the retries)
  6  trainings watch: the training ended in error`;

/** A failure a command reports as one line on stderr with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A mistake in the command line, reported with the command's usage (exit code 2). */
export class UsageError extends Error {}

/** The exit code and the line to print for a failure of a client command; undefined for a bug (rethrown). */
export function describeFailure(error: unknown): { exitCode: number; message: string } | undefined {
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, message: error.message };
  }
  if (error instanceof RoundhouseApiError) {
    const code = error.code === undefined ? '' : ` [${error.reason ?? error.code}]`;
    const message = `${error.status} ${error.detail}${code} (${error.request})`;
    if (error.status === 401) {
      return { exitCode: EXIT.NOT_AUTHENTICATED, message: `not authenticated: ${message}` };
    }
    return { exitCode: error.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REFUSED, message };
  }
  if (error instanceof RoundhouseConnectionError) {
    return { exitCode: EXIT.UNAVAILABLE, message: `server unreachable: ${error.request}: ${rootCause(error.cause)}` };
  }
  if (isSystemError(error)) {
    return { exitCode: EXIT.FAILED, message: error.message };
  }
  if (error instanceof SyntaxError) {
    return { exitCode: EXIT.FAILED, message: error.message };
  }
  return undefined;
}

/** The innermost reason of a failed fetch: `ECONNREFUSED`, `ENOTFOUND`, or a message. */
function rootCause(error: unknown): string {
  let cause = error;
  while (cause instanceof Error && cause.cause !== undefined) {
    cause = cause.cause;
  }
  if (typeof cause === 'object' && cause !== null && 'code' in cause) {
    return String(cause.code);
  }
  return cause instanceof Error ? cause.message : String(cause);
}

/** Node's I/O errors (`ENOENT`, `EACCES`, ...), recognized by code. */
function isSystemError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && /^E[A-Z]+$/.test(String(error.code));
}

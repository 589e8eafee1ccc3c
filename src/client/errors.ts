/** What the server answered to a refused request: its status and the JSON error envelope's fields. */
export class RoundhouseApiError extends Error {
  override readonly name = 'RoundhouseApiError';

  constructor(
    /** `GET /api/models/...`, for messages. */
    readonly request: string,
    readonly status: number,
    /** The envelope's `detail`, or the raw body's start when the answer was not the envelope. */
    readonly detail: string,
    /** The envelope's `code` (`invalid_input`, `not_found`, `conflict`, ...). */
    readonly code: string | undefined,
    /** The envelope's `details` (field errors, `reason`, `tensor`, ...). */
    readonly details: unknown,
  ) {
    super(`${request}: ${status} ${detail}`);
  }

  /** `details.reason`, which names the cause of a 400 or 409 (`model_manifest_mismatch`, `slot_filled`, ...). */
  get reason(): string | undefined {
    const details = this.details;
    if (typeof details === 'object' && details !== null && 'reason' in details) {
      const reason = details.reason;
      return typeof reason === 'string' ? reason : undefined;
    }
    return undefined;
  }
}

/** The server could not be reached, or the connection broke, after every retry the policy allowed. */
export class RoundhouseConnectionError extends Error {
  override readonly name = 'RoundhouseConnectionError';

  constructor(
    readonly request: string,
    override readonly cause: unknown,
  ) {
    super(`${request}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** True for an answer the SDK turned into `RoundhouseApiError` with this status (and reason, when given). */
export function isApiError(error: unknown, status?: number, reason?: string): error is RoundhouseApiError {
  return (
    error instanceof RoundhouseApiError &&
    (status === undefined || error.status === status) &&
    (reason === undefined || error.reason === reason)
  );
}

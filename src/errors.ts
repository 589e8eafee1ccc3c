/** Stable error codes: the same snake_case string travels as `ApplicationFailure.type` and as the HTTP `code`. */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'already_exists'
  | 'conflict'
  | 'not_authenticated'
  | 'permission_denied'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_ready'
  | 'unavailable'
  | 'internal_error';

export interface AppErrorOptions {
  code: ErrorCode;
  status: number;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error whose code, status and message may be shown to the client (for 4xx) and logged (always). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(options: AppErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.status = options.status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** True for an AppError from any realm (jest module registries and the workflow sandbox break `instanceof`). */
export function isAppError(err: unknown): err is AppError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'AppError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { status?: unknown }).status === 'number'
  );
}

/** Thrown when a resource does not exist; `message` keeps the reference server's wording. */
export function notFound(message: string): AppError {
  return new AppError({ code: 'not_found', status: 404, message });
}

/** Thrown when the request is well-formed but its content is invalid. */
export function invalidInput(message: string, details?: unknown): AppError {
  return new AppError({ code: 'invalid_input', status: 400, message, details });
}

/** Thrown when one field is invalid: `detail` is `field: message`, and `details` maps the field to the message. */
export function fieldInvalid(field: string, message: string): AppError {
  return invalidInput(`${field}: ${message}`, { [field]: [message] });
}

/** Thrown when the request is valid but clashes with what is stored (a filled slot, a model still in use). */
export function conflict(message: string): AppError {
  return new AppError({ code: 'conflict', status: 409, message });
}

/** Thrown when a dependency (Postgres, Temporal) cannot serve the request now; the client may retry. */
export function unavailable(message: string, retryAfterSeconds: number, details?: unknown): AppError {
  return new AppError({
    code: 'unavailable',
    status: 503,
    message,
    details,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

import type { AggregationError } from './aggregation/errors';
import type { DatasetErrorReason, ErrorReason, InputErrorReason } from './error-reasons';

/*
 * The error model has two levels. `code` (an ErrorCode below) says what kind of failure an answer is and goes with
 * one HTTP status; where one code covers several causes, `details.reason` names the cause (src/error-reasons.ts
 * holds every reason, and the same strings are the workflow's and activities' `ApplicationFailure.type`). Every
 * error an answer can carry is made by a factory in this module; src/api/middleware/error-handler.ts writes it as
 * `{ detail, code, details? }`, and src/api/workflow-failures.ts turns a workflow's refusal into one.
 */

/** Stable error codes: the HTTP body's `code`, one per kind of failure. */
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
  | 'too_many_requests'
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
  /** Why a 503 happened, for the metrics (`unavailable`). */
  reason?: string;
}

/** An error whose code, status and message may be shown to the client (for 4xx) and logged (always). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;
  readonly reason: string | undefined;

  constructor(options: AppErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.status = options.status;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.reason = options.reason;
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
export function notFound(message: string, cause?: unknown): AppError {
  return new AppError({ code: 'not_found', status: 404, message, cause });
}

/** Thrown when the request is well-formed but its content is invalid. */
export function invalidInput(message: string, details?: unknown, cause?: unknown): AppError {
  return new AppError({ code: 'invalid_input', status: 400, message, details, cause });
}

/** Thrown when one field is invalid: `detail` is `field: message`, and `details` maps the field to the message. */
export function fieldInvalid(field: string, message: string): AppError {
  return invalidInput(`${field}: ${message}`, { [field]: [message] });
}

/** Thrown when the request is valid but clashes with what is stored (a filled slot, a model still in use). */
export function conflict(message: string, cause?: unknown): AppError {
  return new AppError({ code: 'conflict', status: 409, message, cause });
}

/** Thrown when one conflict has several causes: a 409 whose `details.reason` names the cause. */
export function conflictBecause(reason: ErrorReason, message: string): AppError {
  return new AppError({ code: 'conflict', status: 409, message, details: { reason } });
}

/** Thrown when what the request would create exists already (a unique constraint said so). */
export function alreadyExists(message: string, cause?: unknown): AppError {
  return new AppError({ code: 'already_exists', status: 409, message, cause });
}

/** Thrown when a request carries no credentials or wrong ones: 401 with the reference's header. */
export function notAuthenticated(message: string): AppError {
  return new AppError({
    code: 'not_authenticated',
    status: 401,
    message,
    headers: { 'WWW-Authenticate': 'Token' },
  });
}

/** Thrown when a body (or a part of it, the `subject`) exceeds its limit; the message names the limit. */
export function payloadTooLarge(limit: number, subject = 'Request body'): AppError {
  return new AppError({
    code: 'payload_too_large',
    status: 413,
    message: `${subject} too large: the limit is ${limit} bytes.`,
  });
}

/** Thrown when a body's media type is not one the route reads. */
export function unsupportedMediaType(message: string): AppError {
  return new AppError({ code: 'unsupported_media_type', status: 415, message });
}

/**
 * Thrown when a dependency (Postgres, Temporal, a busy run, full inference) cannot serve the request now; the client
 * may retry. `reason` says which, in a word operators count 503s by (`roundhouse_http_unavailable_total`).
 */
export function unavailable(
  message: string,
  retryAfterSeconds: number,
  options: { reason: string; details?: unknown; cause?: unknown },
): AppError {
  return new AppError({
    code: 'unavailable',
    status: 503,
    message,
    details: options.details,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    cause: options.cause,
    reason: options.reason,
  });
}

/** Thrown when a client has tried too often (failed logins); it may try again after `retryAfterSeconds`. */
export function tooManyRequests(message: string, retryAfterSeconds: number): AppError {
  return new AppError({
    code: 'too_many_requests',
    status: 429,
    message,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/** The reference's generic 403 text (DRF's). */
export const NO_PERMISSION = 'You do not have permission to perform this action.';

/** Thrown when the caller is related to the resource but may not do this; the reference's words by default. */
export function forbidden(message: string = NO_PERMISSION): AppError {
  return new AppError({ code: 'permission_denied', status: 403, message });
}

/**
 * Thrown when a request authenticated by a session cookie fails the CSRF check (a foreign `Origin`, a missing or
 * wrong token); `message` starts with Django's `CSRF Failed:`.
 */
export function csrfFailed(message: string): AppError {
  return forbidden(`CSRF Failed: ${message}`);
}

/** Thrown when one code covers several causes: a 400 whose `details.reason` names the cause. */
export function refusedBecause(reason: ErrorReason, message: string, details: Record<string, unknown> = {}): AppError {
  return invalidInput(message, { reason, ...details });
}

/** How a PyTorch user gets the ONNX model that inference, evaluation and preprocessing run. */
export const ONNX_EXPORT_RECIPE =
  'export it with torch.onnx.export(model.eval(), example_input, "model.onnx", dynamo=False, external_data=False, input_names=["input"], dynamic_axes={"input": {0: "batch"}}) and upload that file';

/** Thrown where a PyTorch model is given and only ONNX runs: `what` says where (`Inference`, `a preprocessing file`). */
export function onnxRequired(what: string): AppError {
  return refusedBecause(
    'onnx_required',
    `${what} needs an ONNX model; this one is a PyTorch archive: ${ONNX_EXPORT_RECIPE}.`,
  );
}

/** Thrown for a model input the client must fix; `message` says what is wrong. */
export function inputError(reason: InputErrorReason, message: string, details: Record<string, unknown> = {}): AppError {
  return refusedBecause(reason, message, details);
}

/** Thrown for a dataset upload the client must fix; `message` says what is wrong, `reason` names the kind. */
export function datasetRefusal(reason: DatasetErrorReason, message: string): AppError {
  return refusedBecause(reason, message);
}

/** Thrown when the aggregation engine refuses an uploaded file: its code as the reason, and the tensor or node. */
export function engineRefusal(what: string, error: AggregationError): AppError {
  return refusedBecause(error.code, `Invalid ${what}: ${error.message}`, {
    ...(error.tensor === undefined ? {} : { tensor: error.tensor }),
    ...(error.node === undefined ? {} : { node: error.node }),
  });
}

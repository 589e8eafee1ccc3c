import type { AggregationErrorCode } from '../error-reasons';

/** What an error points at, so a client can be told which tensor or node to fix. */
export interface AggregationErrorSubject {
  readonly tensor?: string;
  readonly node?: string;
  readonly clientId?: string;
}

/**
 * A refused model, update or aggregation request. Returned as a value by the checks and thrown by the streaming
 * readers; callers match on `code` (see `isAggregationError`), never on `instanceof` alone.
 */
export class AggregationError extends Error {
  override readonly name = 'AggregationError';
  readonly code: AggregationErrorCode;
  readonly tensor?: string;
  readonly node?: string;
  readonly clientId?: string;

  constructor(code: AggregationErrorCode, message: string, subject: AggregationErrorSubject = {}) {
    super(message);
    this.code = code;
    this.tensor = subject.tensor;
    this.node = subject.node;
    this.clientId = subject.clientId;
  }

  /** The same error, its message prefixed with the client whose update caused it. */
  forClient(clientId: string): AggregationError {
    const subject = { tensor: this.tensor, node: this.node, clientId };
    return new AggregationError(this.code, `update of client "${clientId}": ${this.message}`, subject);
  }
}

/** True for an `AggregationError`, also across realms (jest, worker sandboxes), by its name and code. */
export function isAggregationError(value: unknown): value is AggregationError {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  return 'name' in value && value.name === 'AggregationError' && 'code' in value && typeof value.code === 'string';
}

/** Thrown when a model's bytes do not form the protobuf structure ONNX requires. */
export function malformed(message: string, subject: AggregationErrorSubject = {}): AggregationError {
  return new AggregationError('model_malformed', message, subject);
}

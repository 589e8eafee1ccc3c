/** Stable codes of everything the aggregation engine refuses; the API and workflow map them to 4xx answers. */
export type AggregationErrorCode =
  | 'model_truncated'
  | 'model_malformed'
  | 'model_external_data'
  | 'model_non_finite'
  | 'model_graph_mismatch'
  | 'model_manifest_mismatch'
  | 'model_initializer_mismatch'
  | 'model_values_invalid'
  | 'safetensors_malformed'
  | 'aggregation_no_updates'
  | 'aggregation_duplicate_client'
  | 'aggregation_invalid_sample_size'
  | 'aggregation_unknown_method'
  | 'aggregation_unknown_parameter'
  | 'aggregation_invalid_parameter'
  | 'strategy_state_invalid';

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

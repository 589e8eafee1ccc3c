/** Node's socket errors: the service is not there, or went away mid-request. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);

/** Postgres SQLSTATEs of a server that is shutting down, starting, full, or whose connection failed. */
const POSTGRES_UNAVAILABLE = /^(08\d{3}|57P0[1-3]|53300)$/;

/**
 * node-postgres's words for a connection that died under a query (the server was killed or restarted). Knex prefixes
 * the statement it ran, e.g. `ROLLBACK - Client has encountered a connection error and is not queryable`.
 */
const PG_CONNECTION_LOST =
  /Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable/;

/** gRPC status codes of a Temporal frontend that cannot answer now: UNAVAILABLE, DEADLINE_EXCEEDED. */
const GRPC_UNAVAILABLE = new Set([14, 4]);

/** A service an operation needs and found down. */
export type DownService = 'database' | 'training service';

/**
 * Which service an error says is down (Postgres, Temporal), or undefined when it says something else: the operation
 * did nothing wrong and will succeed once the service is back. Matched on codes and names, not classes (jest module
 * registries and bundles break `instanceof`).
 */
export function downService(err: unknown, depth = 0): DownService | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) {
    return undefined;
  }
  const { name, code, message, cause, nativeError } = err as Record<string, unknown>;
  if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code) && 'details' in err) {
    return 'training service';
  }
  if (name === 'KnexTimeoutError' || (typeof code === 'string' && POSTGRES_UNAVAILABLE.test(code))) {
    return 'database';
  }
  if (typeof code === 'string' && SOCKET_CODES.has(code)) {
    return 'database';
  }
  if (typeof message === 'string' && PG_CONNECTION_LOST.test(message)) {
    return 'database';
  }
  // Temporal's ServiceError keeps the gRPC error as `cause`; Objection's DBError keeps pg's as `nativeError`.
  return downService(cause ?? nativeError, depth + 1);
}

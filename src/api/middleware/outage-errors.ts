import { type AppError, unavailable } from '../../errors';

/** Seconds a client is asked to wait before retrying a request that met an outage. */
const RETRY_AFTER_SECONDS = 5;

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

/**
 * Turns an error that says a service the request needs is down (Postgres, Temporal) into 503 with `Retry-After`,
 * naming what is down: the client did nothing wrong and its retry will succeed once the service is back. Matched on
 * codes and names, not classes, as the other translators are.
 */
export function translateOutage(err: unknown): AppError | undefined {
  const service = downService(err);
  if (!service) {
    return undefined;
  }
  return unavailable(`The ${service} is unavailable right now; retry shortly.`, RETRY_AFTER_SECONDS, undefined, err);
}

function downService(err: unknown, depth = 0): 'database' | 'training service' | undefined {
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

import { type AppError, unavailable } from '../../errors';
import { downService } from '../../outages';

/** Seconds a client is asked to wait before retrying a request that met an outage. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Turns an error that says a service the request needs is down (Postgres, Temporal) into 503 with `Retry-After`,
 * naming what is down: the client did nothing wrong and its retry will succeed once the service is back.
 */
export function translateOutage(err: unknown): AppError | undefined {
  const service = downService(err);
  if (!service) {
    return undefined;
  }
  return unavailable(`The ${service} is unavailable right now; retry shortly.`, RETRY_AFTER_SECONDS, {
    reason: `${service.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_down`,
    cause: err,
  });
}

import { createServer } from 'node:net';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { type MetricsServer, startMetricsServer, temporalMetrics } from '../metrics/server';

/** Each role's metrics port unless ROUNDHOUSE_METRICS_PORT names one: a worker beside an API on one host keeps its own. */
const DEFAULT_PORTS = { api: 9464, dev: 9464, worker: 9465 } as const;

/**
 * Starts the role's metrics port (`GET /metrics`), with Temporal Core's own metrics appended when `temporalAddress`
 * names its exporter. Off with ROUNDHOUSE_METRICS_PORT=off. When the default port is taken (a second worker on the
 * host) the process runs without one and says so; a port that was asked for and is taken fails the start.
 */
export async function startRoleMetrics(
  config: Config,
  role: keyof typeof DEFAULT_PORTS,
  logger: Logger,
  temporalAddress?: string,
): Promise<MetricsServer | undefined> {
  if (config.metrics.port === null) {
    return undefined;
  }
  const port = config.metrics.port ?? DEFAULT_PORTS[role];
  try {
    const server = await startMetricsServer({
      host: config.metrics.host,
      port,
      logger,
      ...(temporalAddress === undefined ? {} : { extra: temporalMetrics(temporalAddress) }),
    });
    logger.info('metrics listening', { url: `http://${config.metrics.host}:${server.port}/metrics` });
    return server;
  } catch (error) {
    if (config.metrics.port === undefined && (error as { code?: unknown }).code === 'EADDRINUSE') {
      logger.warn('metrics port in use: this process serves no metrics (set ROUNDHOUSE_METRICS_PORT)', { port });
      return undefined;
    }
    throw error;
  }
}

/** Where Temporal Core exports its metrics in this process: a free loopback port, read by `/metrics` only. */
export async function temporalMetricsAddress(config: Config): Promise<string | undefined> {
  if (config.metrics.port === null) {
    return undefined;
  }
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  return `127.0.0.1:${port}`;
}

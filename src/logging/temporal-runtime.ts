import { type LogLevel as TemporalLevel, type Logger as TemporalLogger, Runtime } from '@temporalio/worker';
import type { LogFields, Logger, LogLevel } from '../logger';

/** Temporal's levels as ours. TRACE (every activation, poll and task) is never written. */
const OURS: Record<TemporalLevel, LogLevel | undefined> = {
  TRACE: undefined,
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Our levels as Temporal's, for the filter of Core's (Rust) lines. */
const CORE: Record<LogLevel, TemporalLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/**
 * Temporal's Logger over ours. The SDK passes its metadata as fields: `sdkComponent` (worker, core, workflow,
 * activity), and for a workflow's `log` calls its namespace, task queue, workflow id, run id and type.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: TemporalLevel, message: string, meta?: LogFields): void => {
    const ours = OURS[level];
    if (ours) {
      logger[ours](message, meta);
    }
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * Installs this process's Temporal runtime, logging through `logger`: the SDK's own lines, Core's (forwarded from
 * Rust, filtered at `level`) and the workflows' `log` calls, so a workflow's `log.info` is written at LOG_LEVEL=info.
 * Call it once per process, before any Worker or NativeConnection is created. The runtime's own signal handling is
 * off: the entry points stop the worker themselves, in order with everything else. With `metricsAddress`, Core
 * exports its metrics (polls, task latencies, slots) there in Prometheus form, for the process's `/metrics`.
 */
export function installTemporalRuntime(logger: Logger, level: LogLevel, metricsAddress?: string): void {
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: CORE[level] }, forward: {} },
      ...(metricsAddress === undefined ? {} : { metrics: { prometheus: { bindAddress: metricsAddress } } }),
    },
    shutdownSignals: [],
  });
}

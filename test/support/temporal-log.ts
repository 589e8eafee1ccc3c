import { createLogger, type Logger } from '../../src/logger';

let current: Logger = createLogger('warn', { component: 'temporal' });

/**
 * The logger the test files' Temporal runtime writes to (quiet-temporal.ts installs it): warnings and errors to
 * stderr, or a test's own logger while `whileTemporalLogsTo` runs.
 */
export const temporalTestLogger: Logger = forwardingTo(() => current);

/** Sends the Temporal runtime's lines (SDK, Core and workflow `log` calls) to `logger` while `run` runs. */
export async function whileTemporalLogsTo<T>(logger: Logger, run: () => Promise<T>): Promise<T> {
  const previous = current;
  current = logger;
  try {
    return await run();
  } finally {
    current = previous;
  }
}

function forwardingTo(target: () => Logger): Logger {
  return {
    debug: (message, fields) => target().debug(message, fields),
    info: (message, fields) => target().info(message, fields),
    warn: (message, fields) => target().warn(message, fields),
    error: (message, fields) => target().error(message, fields),
    child: (fields) => forwardingTo(() => target().child(fields)),
  };
}

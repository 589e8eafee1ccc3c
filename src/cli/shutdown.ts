import type { Logger } from '../logger';

/**
 * Resolves on the first SIGINT or SIGTERM. A second signal while shutting down exits at once, so a stuck stop can
 * always be interrupted.
 */
export function waitForShutdownSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      received = true;
      logger.info('shutting down', { signal });
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** How long stopping may take in all before the process exits without finishing it. */
export const STOP_DEADLINE_MS = 60_000;

/**
 * Runs the stop steps in order, logging (not throwing) failures so every later step still runs. A step that never
 * ends (a worker waiting on a Temporal server that already went, as when a whole process group is signalled) must
 * not leave the process running on its own: past `deadlineMs` it logs which step it was waiting for and exits 1.
 */
export async function stopAll(
  logger: Logger,
  steps: Array<[string, () => Promise<void>]>,
  deadlineMs = STOP_DEADLINE_MS,
): Promise<void> {
  let current = '';
  const watchdog = setTimeout(() => {
    logger.error('stopping took too long: exiting now', { waitingFor: current, afterMs: deadlineMs });
    process.exit(1);
  }, deadlineMs);
  // A stop that ends in time leaves nothing behind to keep the process up.
  watchdog.unref();
  try {
    for (const [name, stop] of steps) {
      current = name;
      try {
        await stop();
        logger.debug('stopped', { name });
      } catch (err) {
        logger.error('stop failed', { name, error: err });
      }
    }
  } finally {
    clearTimeout(watchdog);
  }
}

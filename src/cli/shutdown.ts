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

/** Runs the stop steps in order, logging (not throwing) failures so every later step still runs. */
export async function stopAll(logger: Logger, steps: Array<[string, () => Promise<void>]>): Promise<void> {
  for (const [name, stop] of steps) {
    try {
      await stop();
      logger.debug('stopped', { name });
    } catch (err) {
      logger.error('stop failed', { name, error: err });
    }
  }
}

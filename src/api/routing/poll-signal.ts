import type { ServerResponse } from 'node:http';

/**
 * What a long-poll waits with: a signal that aborts when its client leaves or when the API begins to stop (`stopping`),
 * so that a stop never waits out a poll: the poll answers what it has at once and its client polls again, on another
 * replica. Call `release` when the poll is over.
 */
export function pollSignal(res: ServerResponse, stopping: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  res.once('close', abort);
  stopping.addEventListener('abort', abort, { once: true });
  if (stopping.aborted) {
    abort();
  }
  return {
    signal: controller.signal,
    release: () => {
      res.off('close', abort);
      stopping.removeEventListener('abort', abort);
    },
  };
}

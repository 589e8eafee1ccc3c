import pRetry from 'p-retry';
import { TrainingErrorCode } from '../error-reasons';
import { refusalReasonOf } from './workflow-failures';

/** How long to wait before sending an Update again to a run that is still starting. */
export const STARTING_RETRY_MS = 200;

/**
 * Runs `send` (an Update) again while the run refuses it only because it is still starting, until `deadline`. The
 * last refusal is thrown then; and when the last attempt runs out of time (an RPC deadline, a busy worker) after the
 * run said it was starting, that refusal too, not the timeout: the run is known to be starting, and the client is
 * told to retry in a second rather than that the run did not answer.
 */
export async function retryWhileStarting(
  deadline: number,
  send: () => Promise<unknown>,
  retryMs: number = STARTING_RETRY_MS,
): Promise<void> {
  let starting: Error | undefined;
  await pRetry(send, {
    forever: true,
    factor: 1,
    minTimeout: retryMs,
    onFailedAttempt: (err) => {
      const reason = refusalReasonOf(err);
      if (reason === TrainingErrorCode.STARTING) {
        starting = err;
      }
      if (reason !== TrainingErrorCode.STARTING || Date.now() + retryMs >= deadline) {
        throw reason === undefined && starting !== undefined ? starting : err;
      }
    },
  });
}

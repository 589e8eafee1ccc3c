import type { RetryPolicy } from '@temporalio/common';

/**
 * How the training's activities are retried. An activity fails in one of two ways:
 * - a refusal (a bad model, a missing row or blob): it throws a non-retryable `ApplicationFailure` with our code, and
 *   the training ends in ERROR with that reason at once;
 * - anything else, an outage above all (Postgres, the blob store or the network down): it throws whatever the driver
 *   threw, and is tried again with a backoff capped at two minutes for as long as an operator may take to bring the
 *   service back. An unexpected error is retried the same way, as Temporal advises: the Web UI shows the pending
 *   activity's last failure, and a fixed worker picks the training up where it stopped. (Failing such errors at once
 *   would also fail outages that surface as a TypeError, as `fetch` reports a refused connection.)
 */
export const ACTIVITY_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
};

/** How long one activity, all its attempts together, may keep trying through an outage before the training fails. */
export const OUTAGE_BUDGET = '24 hours';

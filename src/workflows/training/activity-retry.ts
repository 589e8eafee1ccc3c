import type { RetryPolicy } from '@temporalio/common';

/**
 * How the training's activities are retried. An activity fails in one of two ways:
 * - a refusal (a bad model, a missing row or blob): it throws a non-retryable `ApplicationFailure` with our code, and
 *   the training ends in ERROR with that reason at once;
 * - an outage (Postgres, the blob store or the network is down): it throws whatever the driver threw, and is tried
 *   again with a backoff capped at two minutes for as long as an operator may take to bring the service back.
 * A programming error (TypeError and its kin) would fail the same way on every attempt, so it is not retried.
 */
export const ACTIVITY_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  nonRetryableErrorTypes: ['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError'],
};

/** How long one activity, all its attempts together, may keep trying through an outage before the training fails. */
export const OUTAGE_BUDGET = '24 hours';

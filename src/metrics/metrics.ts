import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's metrics in Prometheus form (`GET /metrics` on the metrics port: docs/operations.md#metrics). One
 * registry per process, shared by whatever roles it runs; the instruments are updated where the work happens. Label
 * values come from fixed sets (route patterns, error codes, method names), never from ids or URLs.
 */
export const registry = new Registry();

collectDefaultMetrics({ register: registry, prefix: 'roundhouse_' });

/** Seconds buckets from 1 ms to about 2 minutes: API requests, inference. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
/** Seconds buckets from 10 ms to 2 hours: aggregations. */
const AGGREGATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200];

export const httpRequests = new Counter({
  name: 'roundhouse_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern (unmatched: no route) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'roundhouse_http_request_duration_seconds',
  help: 'Time from a request arriving to its response sent in full, by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: REQUEST_BUCKETS,
  registers: [registry],
});

export const httpUnavailable = new Counter({
  name: 'roundhouse_http_unavailable_total',
  help: '503 answers by reason: database_down, training_service_down, run_unresponsive, upload_backlog, training_starting, inference_at_capacity, not_ready, ...',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const uploads = new Counter({
  name: 'roundhouse_uploads_total',
  help: 'Files of requests answered 2xx (accepted), by route pattern (models, updates, SWAG moments, datasets)',
  labelNames: ['route'] as const,
  registers: [registry],
});

export const uploadBytes = new Counter({
  name: 'roundhouse_upload_bytes_total',
  help: 'Bytes of the files of requests answered 2xx, by route pattern',
  labelNames: ['route'] as const,
  registers: [registry],
});

export const inferenceDuration = new Histogram({
  name: 'roundhouse_inference_duration_seconds',
  help: 'Inference requests from queued to answered, by outcome (ok, refused, failed, at_capacity: turned away)',
  labelNames: ['outcome'] as const,
  buckets: REQUEST_BUCKETS,
  registers: [registry],
});

/** Inference pools of this process, whose queues `roundhouse_inference_queue_depth` adds up. */
const inferenceQueues = new Set<() => number>();

export const inferenceQueueDepth = new Gauge({
  name: 'roundhouse_inference_queue_depth',
  help: 'Inference tasks waiting for a thread',
  registers: [registry],
  collect() {
    let depth = 0;
    inferenceQueues.forEach((queued) => (depth += queued()));
    this.set(depth);
  },
});

/** Counts a pool's queue in `roundhouse_inference_queue_depth` until the returned function is called. */
export function watchInferenceQueue(queued: () => number): () => void {
  inferenceQueues.add(queued);
  return () => inferenceQueues.delete(queued);
}

export const aggregationDuration = new Histogram({
  name: 'roundhouse_aggregation_duration_seconds',
  help: 'Aggregations of a round, from reading the updates to the new version stored, by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  buckets: AGGREGATION_BUCKETS,
  registers: [registry],
});

export const aggregationBytes = new Counter({
  name: 'roundhouse_aggregation_bytes_total',
  help: 'Bytes of the updates aggregated, by method',
  labelNames: ['method'] as const,
  registers: [registry],
});

export const notifications = new Counter({
  name: 'roundhouse_notifications_total',
  help: 'Notifications stored for receivers, by type and outcome (delivered, failed: pushes gave up, pull: no endpoint)',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

/** Long-poll waiters per process, as the task wakers count them. */
const waiterCounts = new Set<() => number>();

export const longPollWaiters = new Gauge({
  name: 'roundhouse_long_poll_waiters',
  help: 'Clients waiting in a long poll for tasks (GET /api/users/myself/tasks/?wait=)',
  registers: [registry],
  collect() {
    let waiting = 0;
    waiterCounts.forEach((count) => (waiting += count()));
    this.set(waiting);
  },
});

/** Counts a task waker's waiters in `roundhouse_long_poll_waiters` until the returned function is called. */
export function watchWaiters(count: () => number): () => void {
  waiterCounts.add(count);
  return () => waiterCounts.delete(count);
}

export const cacheLookups = new Counter({
  name: 'roundhouse_cache_lookups_total',
  help:
    'Lookups in the API caches (tokens, sessions, inference_models) by outcome: hit, miss (read and kept or not), ' +
    'or bypass (the change feed could not vouch for freshness: read from the database)',
  labelNames: ['cache', 'outcome'] as const,
  registers: [registry],
});

export const cacheInvalidations = new Counter({
  name: 'roundhouse_cache_invalidations_total',
  help: 'Row changes the API heard (change), and times it dropped every cache entry (reset: connection lost or a heartbeat unanswered)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

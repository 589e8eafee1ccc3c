import { z } from 'zod';
import { DONE_REASONS } from '../../../db/models/notification';
import { DECLINE_MESSAGE_MAX } from '../../../workflows/training/definitions';
import { boundedInteger, INT32_MAX } from '../common-schemas';
import { taskResponse } from '../tasks/schemas';

/** `/api/trainings/{id}/rounds/{n}/`: the training and the round's number. */
export const roundParams = z.object({
  id: z.guid({ error: (issue) => `Training ${String(issue.input)} not found.` }),
  n: z
    .string()
    .regex(/^\d{1,10}$/, 'Rounds are numbered from 0.')
    .transform(Number)
    .refine((n) => n <= INT32_MAX, 'Rounds are numbered from 0.'),
});

/** The most rounds one page of `GET /api/trainings/{id}/rounds/` holds; a larger `limit` is taken as this. */
export const MAX_ROUNDS_PER_PAGE = 1000;

/** `GET /api/trainings/{id}/rounds/`: a page of rounds, or every round when neither is given. */
export const roundsQuery = z.object({
  from: boundedInteger(0, 'The first round to list (default 0).', INT32_MAX).optional(),
  limit: boundedInteger(
    1,
    `Rounds at most, from \`from\` on (default: every round); more than ${MAX_ROUNDS_PER_PAGE} is taken as ${MAX_ROUNDS_PER_PAGE}.`,
  ).optional(),
});

/** `POST .../decline/`: why, optionally. */
export const declineBody = z.object({ message: z.string().max(DECLINE_MESSAGE_MAX).optional() }).strict();

const uploadPhase = z.enum(['update', 'test', 'swag']);

/** A metric name's figures over the clients that reported it: the mean weighted by their updates' sample sizes. */
const metricAggregate = z.object({
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  count: z.number().int(),
  /** False when some reporter had no update with a sample size in the round: the mean is then unweighted. */
  weighted: z.boolean(),
});

/** A wait after the aggregation (the test of the produced version, or the SWAG round). */
const followingWait = z
  .object({ round: z.number().int(), deadline: z.string().nullable(), reported: z.number().int() })
  .nullable();

/** What happened in one round (docs/api.md#rounds). */
export const roundResponse = z.object({
  round_id: z.number().int(),
  training: z.uuid(),
  round: z.number().int(),
  state: z.enum(['UPDATE', 'AGGREGATING', 'TEST', 'SWAG', 'DONE', 'FAILED']),
  started_at: z.string(),
  deadline: z.string().nullable(),
  /** The global model's round the clients trained from, and the one the round produced (null until it exists). */
  started_from: z.number().int(),
  produced: z.number().int().nullable(),
  /** Clients asked for an update. */
  asked: z.number().int(),
  update_count: z.number().int(),
  sample_size_total: z.number().int(),
  /** The actor: every upload; a participant: its own only. */
  updates: z.array(z.object({ client: z.uuid(), sample_size: z.number().int().nullable(), received_at: z.string() })),
  /** The actor: everyone left out; a participant: itself only. */
  left_out: z.array(
    z.object({
      client: z.uuid(),
      phase: uploadPhase,
      reason: z.enum(DONE_REASONS).exclude(['uploaded']),
      message: z.string().nullable(),
    }),
  ),
  test: followingWait,
  swag: followingWait,
  /** Test metrics on the produced version, and the metrics that came with the updates, per name. */
  metrics: z.record(z.string(), metricAggregate),
  update_metrics: z.record(z.string(), metricAggregate),
  /** The actor: every client's numbers; a participant: its own. */
  client_metrics: z.array(
    z.object({ client: z.uuid(), phase: z.enum(['update', 'test']), name: z.string(), value: z.number() }),
  ),
  /** The server's evaluation of the produced version (docs/training.md#server-evaluation), by name. */
  server_metrics: z.record(z.string(), z.number()),
  /** The server's evaluation of the version the round started from (round 0: the initial model). */
  server_metrics_started_from: z.record(z.string(), z.number()),
  /** Why the started-from or the produced version has no server figures, by version round. */
  evaluation_errors: z.record(z.string(), z.string()),
});
export type RoundView = z.infer<typeof roundResponse>;
export type MetricAggregate = z.infer<typeof metricAggregate>;
export type RoundUpload = RoundView['updates'][number];
export type LeftOut = RoundView['left_out'][number];
export type ClientMetric = RoundView['client_metrics'][number];
export type FollowingWait = z.infer<typeof followingWait>;

/** A declined task. */
export const declineResponse = taskResponse;

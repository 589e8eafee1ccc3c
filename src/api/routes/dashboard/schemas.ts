// The dashboard (src/ui) imports these types: keep this module's imports to zod and modules that import no server code.
import { z } from 'zod';
import { TRAINING_STATES } from '../../../training-states';
import { roundResponse } from '../trainings/round-schemas';

/** The longest `GET /api/dashboard/trainings/{id}/?wait=S` holds a request, in seconds. */
export const MAX_LIVE_WAIT_SECONDS = 30;

/** `GET /api/dashboard/trainings/{id}/`: the version the caller holds, and how long to wait for another one. */
export const liveQuery = z.object({
  since: z
    .string()
    .regex(/^[0-9a-f]{1,64}$/, 'Must be the version of an earlier answer.')
    .optional(),
  wait: z
    .string()
    .regex(/^\d{1,2}$/, `Must be a whole number of seconds from 0 to ${MAX_LIVE_WAIT_SECONDS}.`)
    .transform(Number)
    .refine(
      (seconds) => seconds <= MAX_LIVE_WAIT_SECONDS,
      `Must be a whole number of seconds from 0 to ${MAX_LIVE_WAIT_SECONDS}.`,
    )
    .optional(),
});

/** One training as the dashboard lists it. */
export const trainingSummary = z.object({
  id: z.uuid(),
  state: z.enum(TRAINING_STATES),
  aggregation_method: z.string(),
  uncertainty_method: z.string(),
  target_num_updates: z.number().int(),
  /** The global model's round: the round its clients train now, which is the number of aggregations done. */
  round: z.number().int(),
  participants: z.number().int(),
  model: z.object({ id: z.uuid(), name: z.string() }),
  /** Whether the caller is the training's actor or one of its participants. */
  role: z.enum(['actor', 'participant']),
  /** The server's evaluation of the newest version it evaluated (docs/training.md#server-evaluation); null: none. */
  server_metrics: z.object({ round: z.number().int(), values: z.record(z.string(), z.number()) }).nullable(),
  last_update: z.string(),
  error: z.string().nullable(),
  /** The training's workflow in the Temporal Web UI; null when no Web UI is configured. */
  workflow_url: z.string().nullable(),
});
export type TrainingSummary = z.infer<typeof trainingSummary>;

/** A stored version of the training's global model. */
const modelVersion = z.object({
  round: z.number().int(),
  created_at: z.string(),
  size: z.number().int(),
  /** `GET /api/models/{id}/?round=N`. */
  download_url: z.string(),
});
export type ModelVersionView = z.infer<typeof modelVersion>;

/** Everything the dashboard shows of one training, and the version to wait for a change of. */
export const trainingLive = z.object({
  /** Changes whenever anything below does; send it back as `since` to wait for the next change. */
  version: z.string(),
  training: trainingSummary,
  /** The actor sees every participant; a participant sees itself. */
  clients: z.array(z.object({ id: z.uuid(), username: z.string() })),
  rounds: z.array(roundResponse),
  versions: z.array(modelVersion),
});
export type TrainingLive = z.infer<typeof trainingLive>;

/** The choices of the dashboard's training form, as the API accepts them. */
export const trainingChoices = z.object({
  aggregation_methods: z.array(z.string()),
  uncertainty_methods: z.array(z.string()),
  /** The strategy parameters each method takes in `options` (methods without any are absent). */
  strategy_parameters: z.record(z.string(), z.array(z.string())),
});
export type TrainingChoices = z.infer<typeof trainingChoices>;

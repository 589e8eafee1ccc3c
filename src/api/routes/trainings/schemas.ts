import { z } from 'zod';
import { AGGREGATION_METHODS } from '../../../aggregation/strategies/registry';
import { BULYAN_SELECTION_RULES } from '../../../aggregation/strategies/robust';
import { documentAs, jsonSchemaOf } from '../../openapi/documented';
import { INT32_MAX, uuidParams } from '../common-schemas';
import { TRAINING_STATES } from '../../../training-states';

/** Uncertainty methods, as the reference spells them. */
export const UNCERTAINTY_METHODS = ['NONE', 'ENSEMBLE', 'MC_DROPOUT', 'SWAG'] as const;

const positiveInt = z.number().int().min(1);
const nonNegative = z.number().min(0);

/** Strategy parameters by method (Flower's names, flat in `options`); a parameter of another method is refused. */
export const STRATEGY_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  FedProx: ['proximal_mu'],
  FedAvgM: ['server_learning_rate', 'server_momentum'],
  FedAdagrad: ['eta', 'eta_l', 'tau'],
  FedAdam: ['eta', 'eta_l', 'beta_1', 'beta_2', 'tau'],
  FedYogi: ['eta', 'eta_l', 'beta_1', 'beta_2', 'tau'],
  FedTrimmedAvg: ['beta'],
  Krum: ['num_malicious_nodes'],
  MultiKrum: ['num_malicious_nodes', 'num_nodes_to_select'],
  Bulyan: ['num_malicious_nodes', 'selection_rule'],
  FedDC: ['daisy_chain_period', 'aggregation_period'],
};

const ALL_STRATEGY_PARAMETERS: ReadonlySet<string> = new Set(Object.values(STRATEGY_PARAMETERS).flat());

/** Options every training takes, whatever its method. */
const commonOptions = {
  skip_model_tests: z.boolean().optional(),
  model_test_after_each_round: z.boolean().optional(),
  delete_local_models_after_aggregation: z.boolean().optional(),
  round_timeout: z.number().positive().optional(),
  test_timeout: z.number().positive().optional(),
  min_clients: positiveInt.optional(),
  min_fraction: z.number().gt(0).max(1).optional(),
  uncertainty: z.strictObject({ N: positiveInt.optional(), softmax: z.boolean().optional() }).optional(),
  /** The id of a dataset the actor owns (a JSON number, as dataset ids are integers). */
  evaluation_dataset: z.number().int().min(1).max(INT32_MAX).optional(),
};

/** Strategy parameters, each taken only by the methods `STRATEGY_PARAMETERS` names. */
const strategyOptions: Readonly<Record<string, z.ZodOptional>> = {
  daisy_chain_period: positiveInt.optional(),
  aggregation_period: positiveInt.optional(),
  proximal_mu: nonNegative.optional(),
  server_learning_rate: z.number().positive().optional(),
  server_momentum: nonNegative.optional(),
  eta: z.number().positive().optional(),
  eta_l: z.number().positive().optional(),
  beta_1: z.number().min(0).max(1).optional(),
  beta_2: z.number().min(0).max(1).optional(),
  tau: z.number().positive().optional(),
  beta: z.number().min(0).lt(0.5).optional(),
  num_malicious_nodes: z.number().int().min(0).optional(),
  num_nodes_to_select: positiveInt.optional(),
  selection_rule: z.enum(BULYAN_SELECTION_RULES).optional(),
};

/** `options` of a training (docs/training.md#training-options); any other key is an unknown field. */
export const trainingOptions = z.strictObject({ ...commonOptions, ...strategyOptions });

/** The options `method` takes: the common ones and its own strategy parameters. */
function optionsOf(method: string): z.ZodObject {
  const own = (STRATEGY_PARAMETERS[method] ?? []).map((name) => [name, strategyOptions[name]] as const);
  return z.strictObject({ ...commonOptions, ...Object.fromEntries(own) });
}

const clientList = z.array(z.guid());

const trainingFields = {
  model_id: z.guid(),
  target_num_updates: z.number().int().min(0).max(INT32_MAX),
  metric_names: z.array(z.string()).default([]),
  uncertainty_method: z.enum(UNCERTAINTY_METHODS).default('NONE'),
  clients: clientList.default([]),
  /** A group of the actor whose members may join the training themselves (beyond the reference). */
  group: z.number().int().min(1).max(INT32_MAX).nullable().default(null),
};

/** `POST /api/trainings/`: the JSON body (read whatever the Content-Type says, as the reference). */
export const createTrainingBody = documentAs(
  z
    .strictObject({
      ...trainingFields,
      aggregation_method: z.enum(AGGREGATION_METHODS),
      options: trainingOptions.default({}),
    })
    .superRefine((body, ctx) => {
      for (const name of Object.keys(body.options)) {
        if (ALL_STRATEGY_PARAMETERS.has(name) && !usedBy(name, body.aggregation_method)) {
          ctx.addIssue({ code: 'custom', path: ['options', name], message: 'Unknown field.' });
        }
      }
    }),
  // Documented per method, so a client generated from the document offers each method only its own parameters.
  () => ({
    oneOf: AGGREGATION_METHODS.map((method) =>
      jsonSchemaOf(
        z.strictObject({
          ...trainingFields,
          aggregation_method: z.literal(method),
          options: optionsOf(method).default({}),
        }),
      ),
    ),
  }),
);
export type CreateTrainingRequest = z.output<typeof createTrainingBody>;

function usedBy(name: string, method: string): boolean {
  return STRATEGY_PARAMETERS[method]?.includes(name) ?? false;
}

/** `PUT` / `DELETE /api/trainings/{id}/clients/`. */
export const clientsBody = z.object({ clients: clientList });

/** Training path ids. */
export const trainingParams = uuidParams('Training');

/** The reference's `TrainingSerializer` shape. */
export const trainingResponse = z.object({
  id: z.uuid(),
  state: z.enum(TRAINING_STATES),
  target_num_updates: z.number().int(),
  last_update: z.string(),
  uncertainty_method: z.string(),
  aggregation_method: z.string(),
  options: z.record(z.string(), z.unknown()),
  locked: z.boolean(),
  model: z.uuid(),
  actor: z.uuid(),
  participants: z.array(z.uuid()),
  /** The group whose members may join (beyond the reference); null when none. */
  group: z.number().int().nullable(),
});
export type TrainingResponse = z.infer<typeof trainingResponse>;

/** `GET /api/trainings/{id}/` adds the current round's progress. */
export const trainingWithRoundsResponse = trainingResponse.extend({
  local_models_arrived: z.number().int(),
  local_models_expected: z.number().int(),
  error: z.string().nullable(),
  /** The running workflow's view (beyond the reference); null when no run answers. */
  run: z
    .object({
      phase: z.string(),
      round: z.number().int(),
      participants: z.array(z.string()),
      received: z.array(z.string()),
      missing: z.array(z.string()),
      deadline: z.string().nullable(),
      extended: z.boolean(),
      left_out: z.record(z.string(), z.array(z.string())),
      declined: z.record(z.string(), z.string()),
    })
    .nullable(),
});

/** `{"detail", "training_id"}` after creation. */
export const trainingCreatedResponse = z.object({ detail: z.string(), training_id: z.uuid() });

import { findStrategy } from '../aggregation/strategies/registry';
import type { Training, TrainingSpec } from '../db/models/training';
import type { TrainingSettings } from '../workflows/training/definitions';

/** The default of `options.round_timeout`, in seconds (docs/training.md#training-options). */
export const DEFAULT_ROUND_TIMEOUT_S = 3600;
/** The default of `options.test_timeout`, in seconds. */
export const DEFAULT_TEST_TIMEOUT_S = 900;

/** FedDC's defaults (docs/training.md#feddc): daisy-chain after every round, aggregate after every fourth. */
export const DEFAULT_DAISY_CHAIN_PERIOD = 1;
export const DEFAULT_AGGREGATION_PERIOD = 4;

/**
 * Maps a stored training to the workflow's settings: participants in code-unit order (the order the engine folds
 * updates in), timeouts from the options' seconds to milliseconds with their defaults, the quorum, and for
 * FedProx the μ sent to clients (the strategy's default when the options leave it out), for FedDC its periods.
 * @param modelRound the global model's current round, where the training starts.
 */
export function settingsOf(
  training: TrainingSpec & Pick<Training, 'id'>,
  participantIds: readonly string[],
  modelRound: number,
): TrainingSettings {
  const { options } = training;
  return {
    trainingId: training.id,
    modelId: training.modelId,
    actorId: training.actorId,
    participants: [...participantIds].sort(),
    startRound: modelRound,
    targetNumUpdates: training.targetNumUpdates,
    aggregationMethod: training.aggregationMethod,
    skipModelTests: options.skip_model_tests === true,
    modelTestAfterEachRound: options.model_test_after_each_round !== false,
    roundTimeoutMs: Math.round((numberOption(options, 'round_timeout') ?? DEFAULT_ROUND_TIMEOUT_S) * 1000),
    testTimeoutMs: Math.round((numberOption(options, 'test_timeout') ?? DEFAULT_TEST_TIMEOUT_S) * 1000),
    minClients: numberOption(options, 'min_clients'),
    minFraction: numberOption(options, 'min_fraction'),
    proximalMu: training.aggregationMethod === 'FedProx' ? proximalMu(options) : undefined,
    uncertaintyMethod: training.uncertaintyMethod,
    ...(training.aggregationMethod === 'FedDC'
      ? {
          daisyChain: {
            daisyChainPeriod: numberOption(options, 'daisy_chain_period') ?? DEFAULT_DAISY_CHAIN_PERIOD,
            aggregationPeriod: numberOption(options, 'aggregation_period') ?? DEFAULT_AGGREGATION_PERIOD,
          },
        }
      : {}),
    ...(typeof options.evaluation_dataset === 'number' ? { evaluationDatasetId: options.evaluation_dataset } : {}),
  };
}

/** The strategy parameters among the options: the ones the method declares (the API refused any other). */
export function strategyParams(method: string, options: Record<string, unknown>): Record<string, unknown> {
  const names = findStrategy(method)?.params.map((spec) => spec.name) ?? [];
  return Object.fromEntries(names.filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
}

function proximalMu(options: Record<string, unknown>): number {
  const spec = findStrategy('FedProx')?.params.find((param) => param.name === 'proximal_mu');
  return numberOption(options, 'proximal_mu') ?? (typeof spec?.default === 'number' ? spec.default : 0);
}

function numberOption(options: Record<string, unknown>, name: string): number | undefined {
  const value = options[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

import pLimit from 'p-limit';
import type { Knex } from 'knex';
import { aggregate } from '../aggregation/aggregate';
import { collectBytes } from '../onnx/model-source';
import { decodeStrategyState, encodeStrategyState } from '../aggregation/strategy-state';
import { findVersion } from '../db/queries/models';
import { deleteLocalModelsThrough, recordAggregate } from '../db/queries/training-runs';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import { aggregationBytes, aggregationDuration } from '../metrics/metrics';
import { asActivityFailure } from './activity-failures';
import { heartbeatingBlob, heartbeatingChunks } from './heartbeat-stream';
import { loadRoundUpdates } from './round-updates';
import { requireTraining, requireVersion } from './stored-training';
import type { AdvanceRoundInput, AggregateRoundInput, AggregateRoundResult } from './training-activity-types';
import { strategyParams } from './training-settings';

/**
 * Aggregates round `round` of a training into version `round + 1` of its global model: the engine reads the
 * round's global version and each accepted update from the blob store (heartbeating as it reads), the result
 * streams into the blob store, and one transaction records the version and moves the model's round (and, when
 * the options say so, deletes the round's local models). A retry after that transaction finds the version and
 * returns it without aggregating again; a retry racing it stores the same bytes and keeps the first row.
 * @throws non-retryable failures with the engine's code when it refuses, or ours for missing rows and blobs.
 */
export async function aggregateRound(
  deps: { knex: Knex; blobs: BlobStore; logger: Logger },
  input: AggregateRoundInput,
): Promise<AggregateRoundResult> {
  const { knex, blobs, logger } = deps;
  const training = await requireTraining(knex, input.trainingId);
  const next = input.round + 1;
  const deleteLocals = training.options.delete_local_models_after_aggregation === true;
  const done = await findVersion(knex, training.modelId, next);
  if (done) {
    await finishRound(knex, training.id, input.round, deleteLocals);
    return withState({ round: next, weightsDigest: done.weightsDigest }, done.strategyStateDigest);
  }
  const global = await requireVersion(knex, training.modelId, input.round);
  const method = training.aggregationMethod;
  const timer = aggregationDuration.startTimer({ method });
  try {
    const updates = await loadRoundUpdates(deps, training.id, input.round, input.updates);
    const previousState = input.stateDigest
      ? decodeStrategyState(await collectBytes(await blobs.read(input.stateDigest)))
      : undefined;
    const result = await aggregate({
      method,
      params: strategyParams(method, training.options),
      global: heartbeatingBlob(blobs, global.weightsDigest, 'reading the global model'),
      updates,
      ...(previousState ? { state: previousState } : {}),
    });
    const stored = await blobs.put(heartbeatingChunks(result.model, 'writing the aggregate'));
    // The state is stored before the version that names it, so a recorded digest always has its blob.
    const state = result.state ? await blobs.put(encodeStrategyState(result.state)) : undefined;
    const recorded = await knex.transaction(async (trx) => {
      const digests = await recordAggregate(trx, training.modelId, input.round, stored, state?.digest ?? null);
      await finishRound(trx, training.id, input.round, deleteLocals);
      return digests;
    });
    const weightsDigest = recorded.weightsDigest;
    timer({ outcome: 'ok' });
    aggregationBytes.inc({ method }, await updateBytes(blobs, updates, logger));
    logger.info('round aggregated', {
      round: input.round,
      method: result.method,
      clients: result.clientOrder,
      totalSamples: result.totalSamples,
      weightsDigest,
    });
    return withState({ round: next, weightsDigest }, recorded.strategyStateDigest);
  } catch (err) {
    const failure = asActivityFailure(err);
    // Refused: the engine refused the inputs (a permanent failure); failed: anything a retry may mend.
    timer({ outcome: (failure as { nonRetryable?: unknown }).nonRetryable === true ? 'refused' : 'failed' });
    throw failure;
  }
}

/**
 * Finishes round `round` of a FedDC training without aggregating: version `round + 1` of the global model is the
 * current weights (nothing new to store), so clients upload for the next round and `?round=N` serves every round.
 * A retry finds the version and returns it.
 */
export async function advanceRound(deps: { knex: Knex }, input: AdvanceRoundInput): Promise<AggregateRoundResult> {
  const { knex } = deps;
  const training = await requireTraining(knex, input.trainingId);
  const current = await requireVersion(knex, training.modelId, input.round);
  const weights = { digest: current.weightsDigest, size: Number(current.weightsSize) };
  const recorded = await recordAggregate(knex, training.modelId, input.round, weights);
  return { round: input.round + 1, weightsDigest: recorded.weightsDigest };
}

function withState(result: AggregateRoundResult, stateDigest: string | null): AggregateRoundResult {
  return stateDigest === null ? result : { ...result, stateDigest };
}

async function finishRound(db: Knex, trainingId: string, round: number, deleteLocals: boolean): Promise<void> {
  if (deleteLocals) {
    await deleteLocalModelsThrough(db, trainingId, round);
  }
}

/** Stats of update blobs at once, at most: a round of a thousand clients on S3 is a thousand HEAD requests. */
const STATS_IN_FLIGHT = 16;

/**
 * The bytes of `updates`, for the aggregation-bytes metric. Best effort: the round is recorded by now, so a blob that
 * cannot be stat'ed counts as nothing rather than failing (and retrying) the activity.
 */
async function updateBytes(
  blobs: BlobStore,
  updates: ReadonlyArray<{ digest: string }>,
  logger: Logger,
): Promise<number> {
  const limit = pLimit(STATS_IN_FLIGHT);
  const sizes = await Promise.all(
    updates.map((update) =>
      limit(async () => {
        try {
          return (await blobs.stat(update.digest))?.size ?? 0;
        } catch (err) {
          logger.debug('update size unknown for the aggregation-bytes metric', { digest: update.digest, error: err });
          return 0;
        }
      }),
    ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

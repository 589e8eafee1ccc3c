import { seededUniform } from '../../seeded-random';
import type { UploadSubmission } from './definitions';

/** FedDC's two periods (docs/training.md#feddc), in rounds. */
export interface DaisyChainPeriods {
  daisyChainPeriod: number;
  aggregationPeriod: number;
}

/** What follows a finished FedDC round: an aggregation, or the models each participant trains next. */
export type DaisyChainStep =
  | { kind: 'aggregate' }
  /** Participant id to the local model it trains from next; participants without an entry start from the global model. */
  | { kind: 'chain' | 'keep'; assignments: Record<string, string> };

/**
 * Decides what follows round `round` of a FedDC training (docs/training.md#feddc). Counting the training's rounds from
 * 1, after a multiple of the aggregation period (and always after the last round) the updates are aggregated;
 * otherwise, after a multiple of the daisy-chain period, each participant that uploaded gets another one's update (a
 * permutation with no fixed point, drawn from `seed` and the round); otherwise each keeps its own update.
 * Participants that did not upload, or whose update has no local model, start from the global model.
 * Pure and deterministic: workflow code, replayed.
 */
export function nextDaisyChainStep(input: {
  periods: DaisyChainPeriods;
  seed: number;
  startRound: number;
  finalRound: number;
  round: number;
  participants: readonly string[];
  updates: readonly UploadSubmission[];
}): DaisyChainStep {
  const { periods, round } = input;
  const counted = round - input.startRound + 1;
  if (counted % periods.aggregationPeriod === 0 || round + 1 >= input.finalRound) {
    return { kind: 'aggregate' };
  }
  const chained = input.updates.filter(
    (update): update is UploadSubmission & { modelId: string } =>
      update.modelId !== undefined && input.participants.includes(update.clientId),
  );
  const chain = counted % periods.daisyChainPeriod === 0;
  const order = chain ? derangement(chained.length, random(input.seed, round)) : chained.map((_, i) => i);
  const assignments: Record<string, string> = {};
  chained.forEach((update, i) => {
    assignments[update.clientId] = chained[order[i] ?? i]?.modelId ?? update.modelId;
  });
  return { kind: chain ? 'chain' : 'keep', assignments };
}

/**
 * A uniformly drawn permutation of 0..n−1 with no fixed point (rejection sampling of Fisher-Yates shuffles; about
 * e draws on average); the identity when n < 2, where none exists.
 */
export function derangement(n: number, next: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (n < 2) {
    return order;
  }
  for (;;) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j] ?? j, order[i] ?? i];
    }
    if (order.every((value, i) => value !== i)) {
      return order;
    }
  }
}

/** A seeded source of numbers in [0, 1), one stream per (seed, round). */
export function random(seed: number, round: number): () => number {
  return seededUniform((seed ^ Math.imul(round + 1, 0x9e3779b9)) >>> 0);
}

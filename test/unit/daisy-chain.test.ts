import type { UploadSubmission } from '../../src/workflows/training/definitions';
import { derangement, nextDaisyChainStep, random } from '../../src/workflows/training/daisy-chain';

const participants = ['a', 'b', 'c', 'd'];
const updates: UploadSubmission[] = participants.map((clientId) => ({
  clientId,
  round: 0,
  phase: 'update',
  uploadId: `u-${clientId}`,
  sampleSize: 10,
  modelId: `local-${clientId}`,
}));

function step(round: number, overrides: Partial<Parameters<typeof nextDaisyChainStep>[0]> = {}) {
  return nextDaisyChainStep({
    periods: { daisyChainPeriod: 2, aggregationPeriod: 4 },
    seed: 12345,
    startRound: 0,
    finalRound: 8,
    round,
    participants,
    updates,
    ...overrides,
  });
}

describe('FedDC daisy-chain plan', () => {
  it('aggregates after every aggregation period and after the last round, counting rounds from the first', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((round) => step(round).kind)).toEqual([
      'keep',
      'chain',
      'keep',
      'aggregate',
      'keep',
      'chain',
      'keep',
      'aggregate',
    ]);
    // A training that starts at round 5 counts its own rounds; its final round ends it whatever the period.
    expect(step(8, { startRound: 5, finalRound: 20 }).kind).toBe('aggregate');
    expect(step(6, { startRound: 5, finalRound: 7 }).kind).toBe('aggregate');
  });

  it('when daisy-chaining, hands every uploader another uploader\u2019s model, a permutation without fixed points', () => {
    const chained = step(1);
    if (chained.kind === 'aggregate') {
      throw new Error('round 1 should chain');
    }
    const assigned = Object.entries(chained.assignments);
    expect(assigned).toHaveLength(4);
    for (const [client, model] of assigned) {
      expect(model).not.toBe(`local-${client}`);
    }
    expect(new Set(assigned.map(([, model]) => model))).toEqual(new Set(updates.map((u) => u.modelId)));
  });

  it('when not daisy-chaining, each uploader keeps its own model; non-uploaders and removed clients are left out', () => {
    expect(step(0)).toEqual({
      kind: 'keep',
      assignments: { a: 'local-a', b: 'local-b', c: 'local-c', d: 'local-d' },
    });
    const chained = step(1, { participants: ['a', 'b', 'c'], updates: updates.filter((u) => u.clientId !== 'b') });
    expect(chained.kind === 'chain' && Object.keys(chained.assignments).sort()).toEqual(['a', 'c']);
    expect(chained.kind === 'chain' && chained.assignments).toEqual({ a: 'local-c', c: 'local-a' });
  });

  it('when one client uploaded, it keeps its own model (no permutation without a fixed point exists)', () => {
    expect(step(1, { updates: updates.slice(0, 1) })).toEqual({ kind: 'chain', assignments: { a: 'local-a' } });
  });

  it('draws the same permutation from the same seed and round, and other ones from other seeds', () => {
    const plans = (seed: number) => JSON.stringify([1, 5].map((round) => step(round, { seed })));
    expect(plans(7)).toBe(plans(7));
    const distinct = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(plans));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('draws derangements uniformly: each of the 9 derangements of 4 about equally often', () => {
    const counts = new Map<string, number>();
    const next = random(99, 0);
    for (let i = 0; i < 9000; i++) {
      const order = derangement(4, next);
      expect(order.every((value, index) => value !== index)).toBe(true);
      counts.set(order.join(''), (counts.get(order.join('')) ?? 0) + 1);
    }
    expect(counts.size).toBe(9);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(850);
      expect(count).toBeLessThan(1150);
    }
  });
});

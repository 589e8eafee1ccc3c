import type { RoundView } from '../../../src/api/routes/trainings/round-schemas';
import { roundSettled } from '../../../src/settled-rounds';
import type { Training } from '../../../src/db/models/training';

const training = (state: string, options: Record<string, unknown> = {}): Training => ({ state, options }) as Training;
const round = (overrides: Partial<RoundView>): RoundView =>
  ({ round: 0, state: 'DONE', produced: 1, server_metrics: {}, evaluation_errors: {}, ...overrides }) as RoundView;

describe('roundSettled (what the dashboard stops reading again)', () => {
  it('is false while the round runs, whatever else holds', () => {
    for (const state of ['UPDATE', 'AGGREGATING', 'TEST', 'SWAG'] as const) {
      expect(roundSettled(training('C'), round({ state }))).toBe(false);
    }
  });

  it('settles a done or failed round at once when no server evaluation will come', () => {
    expect(roundSettled(training('O'), round({}))).toBe(true);
    expect(roundSettled(training('O'), round({ state: 'FAILED', produced: null }))).toBe(true);
    expect(roundSettled(training('O', { evaluation_dataset: 3 }), round({ produced: null }))).toBe(true);
  });

  it('with an evaluation dataset, waits for the figures on the produced version, or their error, or the end', () => {
    const evaluated = training('O', { evaluation_dataset: 3 });
    expect(roundSettled(evaluated, round({}))).toBe(false);
    expect(roundSettled(evaluated, round({ server_metrics: { accuracy: 0.9 } }))).toBe(true);
    expect(roundSettled(evaluated, round({ evaluation_errors: { '1': 'failed' } }))).toBe(true);
    // An error on the version the round started from is not the produced version's.
    expect(roundSettled(evaluated, round({ evaluation_errors: { '0': 'failed' } }))).toBe(false);
    expect(roundSettled(training('C', { evaluation_dataset: 3 }), round({}))).toBe(true);
    expect(roundSettled(training('E', { evaluation_dataset: 3 }), round({}))).toBe(true);
  });
});

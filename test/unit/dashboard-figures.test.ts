import type { RoundView } from '../../src/api/routes/trainings/round-schemas';
import { clientCharts, serverCharts } from '../../src/ui/figures';

/** A finished round `n` with nothing in it but what a test names. */
function round(n: number, overrides: Partial<RoundView> = {}): RoundView {
  return {
    round_id: 100 + n,
    training: '5b0f1f0e-1111-4b6a-9d0c-0a4e5d0c1a2b',
    round: n,
    state: 'DONE',
    started_at: '2026-12-03T03:00:00.000Z',
    deadline: null,
    started_from: n,
    produced: n + 1,
    asked: 2,
    update_count: 2,
    sample_size_total: 30,
    updates: [],
    left_out: [],
    test: null,
    swag: null,
    metrics: {},
    update_metrics: {},
    client_metrics: [],
    server_metrics: {},
    server_metrics_started_from: {},
    evaluation_errors: {},
    ...overrides,
  };
}

const aggregate = (mean: number, min: number, max: number) => ({ mean, min, max, count: 2, weighted: true });

describe("the dashboard's chart data", () => {
  it('when the server evaluated each version, has one chart per figure and one point per version, in order', () => {
    const rounds = [
      round(0, {
        server_metrics_started_from: { accuracy: 0.1, loss: 2.3 },
        server_metrics: { accuracy: 0.6, loss: 1.1 },
      }),
      round(1, {
        server_metrics_started_from: { accuracy: 0.6, loss: 1.1 },
        server_metrics: { accuracy: 0.7, loss: 0.9 },
      }),
    ];
    expect(serverCharts(rounds)).toEqual([
      {
        title: 'Server accuracy',
        xLabel: 'Version',
        xs: [0, 1, 2],
        series: [{ label: 'accuracy', values: [0.1, 0.6, 0.7] }],
      },
      { title: 'Server loss', xLabel: 'Version', xs: [0, 1, 2], series: [{ label: 'loss', values: [2.3, 1.1, 0.9] }] },
    ]);
  });

  it('when a round is still collecting updates, its version has no point yet; a later aggregate adds one', () => {
    const running = [round(0, { state: 'UPDATE', produced: null, server_metrics_started_from: { accuracy: 0.1 } })];
    expect(serverCharts(running).map((c) => c.xs)).toEqual([[0]]);
    const aggregated = [
      round(0, { server_metrics_started_from: { accuracy: 0.1 }, server_metrics: { accuracy: 0.5 } }),
    ];
    expect(serverCharts(aggregated).map((c) => c.xs)).toEqual([[0, 1]]);
  });

  it('when the training names no evaluation dataset, has no server chart', () => {
    expect(serverCharts([round(0), round(1)])).toEqual([]);
  });

  it('when clients report metrics with updates and tests, has one chart per name with the lines it has data for', () => {
    const rounds = [
      round(0, { update_metrics: { loss: aggregate(0.9, 0.8, 1) }, metrics: { accuracy: aggregate(0.5, 0.4, 0.6) } }),
      round(1, { update_metrics: { loss: aggregate(0.7, 0.6, 0.8) } }),
    ];
    expect(clientCharts(rounds)).toEqual([
      {
        title: "Clients' accuracy",
        xLabel: 'Round',
        xs: [0, 1],
        series: [
          { label: 'test, mean', values: [0.5, null] },
          { label: 'test, lowest', values: [0.4, null] },
          { label: 'test, highest', values: [0.6, null] },
        ],
      },
      {
        title: "Clients' loss",
        xLabel: 'Round',
        xs: [0, 1],
        series: [{ label: 'with updates, mean', values: [0.9, 0.7] }],
      },
    ]);
  });
});

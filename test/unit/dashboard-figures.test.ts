import { aloneRange, clientCharts, serverCharts } from '../../src/ui/figures';
import { roundView } from '../fixtures/round-views';

const aggregate = (mean: number, min: number, max: number) => ({ mean, min, max, count: 2, weighted: true });

describe("the dashboard's chart data", () => {
  it('when the server evaluated each version, has one chart per figure and one point per version, in order', () => {
    const rounds = [
      roundView(0, {
        server_metrics_started_from: { accuracy: 0.1, loss: 2.3 },
        server_metrics: { accuracy: 0.6, loss: 1.1 },
      }),
      roundView(1, {
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
    const running = [roundView(0, { state: 'UPDATE', produced: null, server_metrics_started_from: { accuracy: 0.1 } })];
    expect(serverCharts(running).map((c) => c.xs)).toEqual([[0]]);
    const aggregated = [
      roundView(0, { server_metrics_started_from: { accuracy: 0.1 }, server_metrics: { accuracy: 0.5 } }),
    ];
    expect(serverCharts(aggregated).map((c) => c.xs)).toEqual([[0, 1]]);
  });

  it('when the training names no evaluation dataset, has no server chart', () => {
    expect(serverCharts([roundView(0), roundView(1)])).toEqual([]);
  });

  it('when clients report metrics with updates and tests, has one chart per name with the lines it has data for', () => {
    const rounds = [
      roundView(0, {
        update_metrics: { loss: aggregate(0.9, 0.8, 1) },
        metrics: { accuracy: aggregate(0.5, 0.4, 0.6) },
      }),
      roundView(1, { update_metrics: { loss: aggregate(0.7, 0.6, 0.8) } }),
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

  it('puts a chart of one round alone in the middle of its x axis, and leaves more rounds to the chart', () => {
    expect(aloneRange([3])).toEqual([2.5, 3.5]);
    expect(aloneRange([0, 1])).toBeUndefined();
    expect(aloneRange([])).toBeUndefined();
  });
});

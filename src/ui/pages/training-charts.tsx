import type { JSX } from 'preact';
import type { RoundView } from '../../api/routes/trainings/round-schemas';
import { type ChartSeries, LineChart } from '../charts/line-chart';

/**
 * One chart per figure of the server's evaluation (loss, accuracy), by model version: version 0 is the initial model,
 * version n + 1 the aggregate of round n, so each aggregated round adds a point.
 */
export function ServerCharts(props: { rounds: readonly RoundView[] }): JSX.Element {
  const byVersion = new Map<number, Record<string, number>>();
  for (const round of props.rounds) {
    addFigures(byVersion, round.started_from, round.server_metrics_started_from);
    if (round.produced !== null) {
      addFigures(byVersion, round.produced, round.server_metrics);
    }
  }
  const versions = [...byVersion.keys()].sort((a, b) => a - b);
  const names = [...new Set([...byVersion.values()].flatMap((figures) => Object.keys(figures)))].sort();
  if (names.length === 0) {
    return <p>The server has evaluated no version of this model (the training names no evaluation dataset).</p>;
  }
  return (
    <div class="charts">
      {names.map((name) => (
        <LineChart
          key={name}
          title={`Server ${name}`}
          xLabel="Version"
          xs={versions}
          series={[{ label: name, values: versions.map((v) => byVersion.get(v)?.[name] ?? null) }]}
        />
      ))}
    </div>
  );
}

function addFigures(byVersion: Map<number, Record<string, number>>, version: number, figures: Record<string, number>) {
  if (Object.keys(figures).length > 0) {
    byVersion.set(version, { ...byVersion.get(version), ...figures });
  }
}

/**
 * One chart per metric the clients report, by round: the mean (weighted by sample size) of what came with the
 * updates of round n, and of the test metrics on the version round n produced, with their lowest and highest.
 */
export function ClientCharts(props: { rounds: readonly RoundView[] }): JSX.Element | null {
  const names = [
    ...new Set(props.rounds.flatMap((r) => [...Object.keys(r.update_metrics), ...Object.keys(r.metrics)])),
  ].sort();
  if (names.length === 0) {
    return <p>No client has reported metrics yet.</p>;
  }
  const xs = props.rounds.map((r) => r.round);
  return (
    <div class="charts">
      {names.map((name) => {
        const series: ChartSeries[] = [];
        if (props.rounds.some((r) => r.update_metrics[name])) {
          series.push({
            label: 'with updates, mean',
            values: props.rounds.map((r) => r.update_metrics[name]?.mean ?? null),
          });
        }
        if (props.rounds.some((r) => r.metrics[name])) {
          series.push(
            { label: 'test, mean', values: props.rounds.map((r) => r.metrics[name]?.mean ?? null) },
            { label: 'test, lowest', values: props.rounds.map((r) => r.metrics[name]?.min ?? null) },
            { label: 'test, highest', values: props.rounds.map((r) => r.metrics[name]?.max ?? null) },
          );
        }
        return <LineChart key={name} title={`Clients' ${name}`} xLabel="Round" xs={xs} series={series} />;
      })}
    </div>
  );
}

import type { RoundView } from '../api/routes/trainings/round-schemas';

/** One line of a chart: its name and a value per x (null where it has none). */
export interface Series {
  label: string;
  values: ReadonlyArray<number | null>;
}

/** A chart's data: its title, what x counts, the xs, and the lines over them. */
export interface ChartData {
  title: string;
  xLabel: string;
  xs: readonly number[];
  series: Series[];
}

/**
 * One chart per figure of the server's evaluation (loss, accuracy), by model version: version 0 is the initial model
 * and version n + 1 the aggregate of round n, so each evaluated aggregate adds a point. Versions without figures (no
 * evaluation dataset, or a failed evaluation) have no point.
 */
export function serverCharts(rounds: readonly RoundView[]): ChartData[] {
  const byVersion = new Map<number, Record<string, number>>();
  const add = (version: number, figures: Record<string, number>): void => {
    if (Object.keys(figures).length > 0) {
      byVersion.set(version, { ...byVersion.get(version), ...figures });
    }
  };
  for (const round of rounds) {
    add(round.started_from, round.server_metrics_started_from);
    if (round.produced !== null) {
      add(round.produced, round.server_metrics);
    }
  }
  const versions = [...byVersion.keys()].sort((a, b) => a - b);
  const names = [...new Set([...byVersion.values()].flatMap((figures) => Object.keys(figures)))].sort();
  return names.map((name) => ({
    title: `Server ${name}`,
    xLabel: 'Version',
    xs: versions,
    series: [{ label: name, values: versions.map((v) => byVersion.get(v)?.[name] ?? null) }],
  }));
}

/**
 * One chart per metric the clients report, by round: the sample-size-weighted mean of what came with the updates of
 * round n, and the mean, lowest and highest of the test metrics on the version round n produced.
 */
export function clientCharts(rounds: readonly RoundView[]): ChartData[] {
  const names = [...new Set(rounds.flatMap((r) => [...Object.keys(r.update_metrics), ...Object.keys(r.metrics)]))];
  const xs = rounds.map((r) => r.round);
  return names.sort().map((name) => {
    const series: Series[] = [];
    if (rounds.some((r) => r.update_metrics[name])) {
      series.push({ label: 'with updates, mean', values: rounds.map((r) => r.update_metrics[name]?.mean ?? null) });
    }
    if (rounds.some((r) => r.metrics[name])) {
      series.push(
        { label: 'test, mean', values: rounds.map((r) => r.metrics[name]?.mean ?? null) },
        { label: 'test, lowest', values: rounds.map((r) => r.metrics[name]?.min ?? null) },
        { label: 'test, highest', values: rounds.map((r) => r.metrics[name]?.max ?? null) },
      );
    }
    return { title: `Clients' ${name}`, xLabel: 'Round', xs, series };
  });
}

/** The x range of a chart of one round only: that round in the middle, half a round either side; else undefined. */
export function aloneRange(xs: readonly number[]): [number, number] | undefined {
  const [only] = xs;
  return xs.length === 1 && only !== undefined ? [only - 0.5, only + 0.5] : undefined;
}

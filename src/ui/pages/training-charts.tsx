import type { JSX } from 'preact';
import type { RoundView } from '../../api/routes/trainings/round-schemas';
import { LineChart } from '../charts/line-chart';
import { type ChartData, clientCharts, serverCharts } from '../figures';

/** The server's evaluation figures by model version, one chart per figure (`serverCharts`). */
export function ServerCharts(props: { rounds: readonly RoundView[] }): JSX.Element {
  const charts = serverCharts(props.rounds);
  if (charts.length === 0) {
    return <p>The server has evaluated no version of this model (the training names no evaluation dataset).</p>;
  }
  return <Charts charts={charts} />;
}

/** The clients' metrics by round, one chart per metric name (`clientCharts`). */
export function ClientCharts(props: { rounds: readonly RoundView[] }): JSX.Element {
  const charts = clientCharts(props.rounds);
  if (charts.length === 0) {
    return <p>No client has reported metrics yet.</p>;
  }
  return <Charts charts={charts} />;
}

function Charts(props: { charts: ChartData[] }): JSX.Element {
  return (
    <div class="charts">
      {props.charts.map((chart) => (
        <LineChart key={chart.title} {...chart} />
      ))}
    </div>
  );
}

import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { aloneRange, type ChartData } from '../figures';
import { figure } from '../format';
import { ScrollTable } from '../scroll-table';

/** Distinct line colours with at least 4.5:1 contrast on white. */
const COLOURS = ['#1f5fa8', '#b3261e', '#1b6e3a', '#7a4ea3', '#8a5a00'];
const HEIGHT = 220;

/**
 * A line chart of figures per round (uPlot on a canvas), with the same numbers in a table for screen readers and
 * for copying. It follows its container's width, so it fits a phone, and takes new points without being rebuilt.
 */
export function LineChart(props: ChartData): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('\u0000');
  const data: uPlot.AlignedData = [props.xs.slice(), ...props.series.map((s) => s.values.slice())];
  // The rounds as of this render, for the x range of a chart that takes new points without being rebuilt.
  const xs = useRef(props.xs);
  xs.current = props.xs;
  useEffect(() => {
    const el = box.current;
    if (!el) {
      return undefined;
    }
    const chart = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height: HEIGHT,
        // One round alone sits in the middle (uPlot stretches a lone x to a hundred before asking).
        scales: { x: { time: false, range: (_u, min, max) => aloneRange(xs.current) ?? [min, max] } },
        // The key below and the table of values say what uPlot's legend would, without controls inside an image.
        legend: { show: false },
        axes: [{ label: props.xLabel, incrs: [1, 2, 5, 10, 20, 50, 100] }, {}],
        series: [
          { label: props.xLabel },
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLOURS[i % COLOURS.length] ?? '#1f5fa8',
            width: 2,
            points: { show: true, size: 6 },
            value: (_: uPlot, v: number | null) => (v === null ? '–' : figure(v)),
          })),
        ],
      },
      data,
      el,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the lines themselves change; new points go through setData below.
  }, [shape, props.xLabel]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <ul class="key">
        {props.series.map((s, i) => (
          <li key={s.label} class={`key-${i % COLOURS.length}`}>
            {s.label}
          </li>
        ))}
      </ul>
      <div ref={box} role="img" aria-label={`${props.title}, by ${props.xLabel.toLowerCase()}`} />
      <details>
        <summary>Values of “{props.title}”</summary>
        <ScrollTable label={`Values of ${props.title}`} columns={[props.xLabel, ...props.series.map((s) => s.label)]}>
          {props.xs.map((x, i) => (
            <tr key={x}>
              <th scope="row">{x}</th>
              {props.series.map((s) => (
                <td key={s.label}>{figure(s.values[i] ?? undefined)}</td>
              ))}
            </tr>
          ))}
        </ScrollTable>
      </details>
    </figure>
  );
}

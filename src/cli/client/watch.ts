import type { Round, RoundhouseClient, TrainingStatus } from '../../client/client';
import { roundSettled, settledRounds } from '../../settled-rounds';
import { CliError, EXIT } from './exit-codes';
import type { Printer } from './output';

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The training states as the API spells them, and their names. */
export const STATE_NAMES: Readonly<Record<string, string>> = {
  I: 'INITIAL',
  O: 'ONGOING',
  S: 'SWAG_ROUND',
  C: 'COMPLETED',
  E: 'ERROR',
};

/** One look at a training: its status and its rounds. */
interface Snapshot {
  readonly training: TrainingStatus;
  readonly rounds: readonly Round[];
}

/**
 * `roundhouse trainings watch`: looks at the training every `interval` seconds until it ends. On a terminal the view
 * is redrawn in place; otherwise (or with `--json`) each change is one line (one JSON object). Resolves with 0 when
 * the training completed; throws exit code 6 when it ended in error.
 */
export async function watchTraining(
  client: RoundhouseClient,
  id: string,
  printer: Printer,
  options: { readonly interval: number; readonly metric: string },
): Promise<number> {
  const printed = new Set<string>();
  let drawn = 0;
  // Rounds 0 … n − 1 once settled do not change: each look reads only the rounds after them (a long training with
  // many clients has a large list).
  let kept: readonly Round[] = [];
  for (;;) {
    const [training, later] = await Promise.all([
      client.trainings.get(id),
      client.trainings.rounds(id, { from: kept.length }),
    ]);
    const rounds = [...kept, ...later];
    const snapshot: Snapshot = { training, rounds };
    const ended = training.state === 'C' || training.state === 'E';
    if (printer.live && !printer.json) {
      const lines = view(snapshot, options.metric, new Date());
      // Back up over the previous view and draw this one in its place.
      printer.output.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      for (const change of changes(snapshot, options.metric)) {
        const key = change.key ?? JSON.stringify(change.value);
        if (!printed.has(key)) {
          printed.add(key);
          printer.line(change.value, change.text);
        }
      }
    }
    if (training.state === 'E') {
      throw new CliError(`training ${id} ended in error: ${training.error ?? 'no reason given'}`, EXIT.TRAINING_FAILED);
    }
    if (ended) {
      return EXIT.OK;
    }
    kept = settledRounds(training, rounds);
    await new Promise((resolve) => setTimeout(resolve, options.interval * 1000));
  }
}

/** One line of `watch`; a line with a `key` is printed once per key, any other once per distinct value. */
interface Change {
  readonly value: Record<string, unknown>;
  readonly text: string;
  readonly key?: string;
}

/**
 * What changed, as lines for a log or a script: the status, each round's outcome once it is settled, the end.
 */
function changes(snapshot: Snapshot, metric: string): Change[] {
  const { training, rounds } = snapshot;
  const state = STATE_NAMES[training.state] ?? training.state;
  const out: Change[] = [];
  const run = training.run;
  if (training.state !== 'C' && training.state !== 'E') {
    const value = {
      event: 'status',
      state,
      round: run?.round ?? null,
      phase: run?.phase ?? null,
      received: run?.received ?? [],
      missing: run?.missing ?? [],
      deadline: run?.deadline ?? null,
    };
    const text =
      run === null
        ? `${state}: ${training.state === 'I' ? 'not started yet' : 'waiting for the run'}`
        : `${state} round ${run.round} ${run.phase}: ${run.received.length}/${run.participants.length} uploaded` +
          `${run.received.length > 0 ? ` (${run.received.map(short).join(', ')})` : ''}` +
          `${run.deadline === null ? '' : `, deadline ${run.deadline}`}`;
    out.push({ value, text });
  }
  for (const round of rounds) {
    if (!roundSettled(training, round)) {
      continue;
    }
    const figure = round.server_metrics[metric];
    out.push({
      key: `round ${round.round}`,
      value: {
        event: 'round',
        round: round.round,
        state: round.state,
        updates: round.update_count,
        asked: round.asked,
        sample_size_total: round.sample_size_total,
        server_metrics: round.server_metrics,
      },
      text:
        `round ${round.round} ${round.state}: ${round.update_count}/${round.asked} updates, ` +
        `${round.sample_size_total} samples` +
        `${figure === undefined ? '' : `, server ${metric} ${format(figure)}`}`,
    });
  }
  if (training.state === 'C' || training.state === 'E') {
    const series = serverSeries(rounds, metric);
    out.push({
      value: { event: 'end', state, error: training.error, [`server_${metric}`]: series.map(([, value]) => value) },
      text:
        `${state}${training.error === null ? '' : `: ${training.error}`}` +
        `${series.length === 0 ? '' : `; server ${metric} ${sparkline(series.map(([, v]) => v))} ${trend(series)}`}`,
    });
  }
  return out;
}

/** The view drawn on a terminal. */
export function view(snapshot: Snapshot, metric: string, now: Date): string[] {
  const { training, rounds } = snapshot;
  const run = training.run;
  const state = STATE_NAMES[training.state] ?? training.state;
  const lines = [
    `Training ${training.id}  ${training.aggregation_method}, ${training.target_num_updates} round(s)  ${state}`,
  ];
  if (run === null) {
    const idle: Record<string, string> = { I: 'Not started yet.', C: 'Completed.', E: 'Ended in error.' };
    lines.push(idle[training.state] ?? 'No run answers (yet).');
  } else {
    lines.push(`Round ${run.round + 1} of ${training.target_num_updates}, phase ${run.phase}`);
    lines.push(
      `Deadline: ${run.deadline === null ? '-' : `${countdown(run.deadline, now)}${run.extended ? ' (extended)' : ''}`}`,
    );
    const received = new Set(run.received);
    lines.push(
      `Uploaded ${run.received.length}/${run.participants.length}: ` +
        run.participants.map((client) => `${received.has(client) ? '✔' : '·'} ${short(client)}`).join('  '),
    );
    const declined = Object.keys(run.declined);
    if (declined.length > 0) {
      lines.push(`Declined: ${declined.map(short).join(', ')}`);
    }
  }
  const series = serverSeries(rounds, metric);
  lines.push(
    series.length === 0
      ? `Server ${metric}: -`
      : `Server ${metric}: ${sparkline(series.map(([, v]) => v))}  ${trend(series)}`,
  );
  for (const round of rounds) {
    const figure = round.server_metrics[metric];
    lines.push(
      `  round ${String(round.round).padStart(3)}  ${round.state.padEnd(11)} ${round.update_count}/${round.asked} updates` +
        `${figure === undefined ? '' : `  ${metric} ${format(figure)}`}`,
    );
  }
  if (training.error !== null) {
    lines.push(`Error: ${training.error}`);
  }
  return lines;
}

/** The server's figure per version: the initial model's (round 0), then each round's produced version. */
export function serverSeries(rounds: readonly Round[], metric: string): Array<[number, number]> {
  const byVersion = new Map<number, number>();
  for (const round of rounds) {
    const before = round.server_metrics_started_from[metric];
    if (before !== undefined) {
      byVersion.set(round.started_from, before);
    }
    const after = round.server_metrics[metric];
    if (after !== undefined && round.produced !== null) {
      byVersion.set(round.produced, after);
    }
  }
  return [...byVersion.entries()].sort(([a], [b]) => a - b);
}

/** Values as block characters: on 0..1 when they all fit there (accuracies), else from their least to their most. */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) {
    return '';
  }
  const unit = values.every((v) => v >= 0 && v <= 1);
  const low = unit ? 0 : Math.min(...values);
  const high = unit ? 1 : Math.max(...values);
  return values
    .map((v) => {
      const share = high === low ? 0.5 : (v - low) / (high - low);
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.max(0, Math.round(share * (BLOCKS.length - 1))))] ?? '';
    })
    .join('');
}

function trend(series: ReadonlyArray<[number, number]>): string {
  const first = series[0];
  const last = series.at(-1);
  if (first === undefined || last === undefined) {
    return '';
  }
  return series.length === 1
    ? `${format(first[1])} (version ${first[0]})`
    : `${format(first[1])} → ${format(last[1])} (versions ${first[0]}–${last[0]})`;
}

function countdown(deadline: string, now: Date): string {
  const seconds = Math.round((Date.parse(deadline) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) {
    return deadline;
  }
  if (seconds <= 0) {
    return `passed (${deadline})`;
  }
  const minutes = Math.floor(seconds / 60);
  return `in ${minutes > 0 ? `${minutes}m ` : ''}${seconds % 60}s`;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** A user id's first 8 characters, enough to tell participants apart on one line. */
function short(id: string): string {
  return id.slice(0, 8);
}

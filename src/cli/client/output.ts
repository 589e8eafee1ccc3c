import type { CommandOutput } from '../command-runner';

/** Where a client command writes: its answer on stdout (JSON with `--json`), messages on stderr. */
export class Printer {
  constructor(
    readonly output: CommandOutput,
    readonly json: boolean,
    /** True when stderr is a terminal: progress bars redraw in place. */
    readonly interactive: boolean,
    /** True when stdout is a terminal: `trainings watch` redraws its view in place. */
    readonly live: boolean,
  ) {}

  /** The command's answer: `value` as JSON with `--json`, else the human lines `text` makes of it. */
  result<T>(value: T, text: (value: T) => string | readonly string[]): void {
    if (this.json) {
      this.output.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
      return;
    }
    const lines = text(value);
    const joined = typeof lines === 'string' ? lines : lines.join('\n');
    if (joined !== '') {
      this.output.stdout.write(`${joined}\n`);
    }
  }

  /** One JSON object per line (`--json` with a stream of changes), or a human line. */
  line(value: unknown, text: string): void {
    this.output.stdout.write(this.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  }

  /** A message for the person at the terminal (stderr, never part of the answer). */
  note(text: string): void {
    this.output.stderr.write(`${text}\n`);
  }
}

/** Rows as aligned columns, the first row a header. */
export function table(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `key: value` lines, aligned. */
export function fields(entries: ReadonlyArray<readonly [string, unknown]>): string[] {
  const width = Math.max(...entries.map(([key]) => key.length)) + 1;
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width)} ${show(value)}`);
}

function show(value: unknown): string {
  if (value === null || value === undefined) {
    return '-';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Bytes as B, kB, MB or GB. */
export function bytes(count: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${count} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

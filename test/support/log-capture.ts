import type { LogDestination } from '../../src/logger';

/** One parsed log line. */
export type LogLine = Record<string, unknown>;

/** A log destination keeping every line, for tests that read what was logged. */
export interface LogCapture {
  readonly destination: LogDestination;
  /** Every line written so far, as written. */
  text(): string;
  /** Every line written so far, parsed. */
  lines(): LogLine[];
  /** The first line `matches` picks, once it is written (lines may come after the call they tell of); else undefined. */
  next(matches: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine | undefined>;
}

/** A fresh capture. */
export function captureLog(): LogCapture {
  const written: string[] = [];
  const lines = (): LogLine[] => written.map((line) => JSON.parse(line) as LogLine);
  return {
    destination: { write: (line: string) => void written.push(line) },
    text: () => written.join(''),
    lines,
    next: async (matches, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      let found = lines().find(matches);
      while (!found && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        found = lines().find(matches);
      }
      return found;
    },
  };
}

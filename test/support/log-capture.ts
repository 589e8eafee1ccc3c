import type { LogDestination } from '../../src/logger';

/** A log destination keeping every line, for tests that read what was logged. */
export interface LogCapture {
  readonly destination: LogDestination;
  /** Every line written so far, as written. */
  text(): string;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
}

/** A fresh capture. */
export function captureLog(): LogCapture {
  const written: string[] = [];
  return {
    destination: { write: (line: string) => void written.push(line) },
    text: () => written.join(''),
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

import type { TrainingState } from '../training-states';

/** The training states as words (the API spells them with one letter, as the reference does). */
const STATE_NAMES: Readonly<Record<TrainingState, string>> = {
  I: 'Initial',
  O: 'Ongoing',
  S: 'SWAG round',
  C: 'Completed',
  E: 'Error',
};

/** A training state as a word. */
export function stateName(state: TrainingState): string {
  return STATE_NAMES[state];
}

/** A figure with four significant digits; a dash when there is none. */
export function figure(value: number | undefined): string {
  return value === undefined ? '–' : Number(value.toPrecision(4)).toString();
}

/** A time in the reader's locale. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** A size in bytes, in the largest unit below it. */
export function bytes(size: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit] ?? 'B'}`;
}

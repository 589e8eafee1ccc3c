import type { ProgressCallback } from '../../client/http';
import { bytes, type Printer } from './output';

const WIDTH = 30;
const REDRAW_MS = 100;

/** A transfer's progress: a bar redrawn on stderr when it is a terminal, one final line otherwise. */
export interface Progress {
  readonly onProgress: ProgressCallback;
  /** Ends the bar (or prints the final line) with the bytes moved. */
  done(): void;
  /** Clears the bar after a failure. */
  fail(): void;
}

/** A progress bar for `label` ("uploading model.onnx"); `verb` is the final line's ("uploaded"). */
export function progressBar(printer: Printer, label: string, verb: string): Progress {
  const stderr = printer.output.stderr;
  let moved = 0;
  let size: number | undefined;
  let drawnAt = 0;
  let drawn = false;
  const draw = (): void => {
    const total = size ?? 0;
    const known = total > 0;
    const share = known ? Math.min(1, moved / total) : 0;
    const filled = Math.round(share * WIDTH);
    const bar = known
      ? `[${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`
      : '';
    const amount = known ? `${bytes(moved)} / ${bytes(total)}` : bytes(moved);
    stderr.write(`\r\x1b[2K${label} ${bar} ${amount}`);
    drawn = true;
  };
  return {
    onProgress: (done, total) => {
      moved = done;
      size = total;
      const now = Date.now();
      if (printer.interactive && now - drawnAt >= REDRAW_MS) {
        drawnAt = now;
        draw();
      }
    },
    done: () => {
      if (printer.interactive) {
        draw();
        stderr.write('\n');
      } else {
        stderr.write(`${label}: ${verb} ${bytes(moved)}\n`);
      }
    },
    fail: () => {
      if (drawn) {
        stderr.write('\n');
      }
    },
  };
}

/** Runs a transfer under a progress bar: the bar follows `onProgress`, ends when it succeeds and clears if it fails. */
export async function withProgress<T>(
  printer: Printer,
  label: string,
  verb: string,
  transfer: (onProgress: ProgressCallback) => Promise<T>,
): Promise<T> {
  const progress = progressBar(printer, label, verb);
  try {
    const result = await transfer(progress.onProgress);
    progress.done();
    return result;
  } catch (error) {
    progress.fail();
    throw error;
  }
}

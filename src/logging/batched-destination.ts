import fs from 'node:fs';

/** How long a write waits when the descriptor is full (a non-blocking pipe nobody reads fast enough). */
const FULL_WAIT_MS = 1;
/** How long, at most, a line waits to be written. */
export const LOG_FLUSH_MS = 10;
/** Bytes of lines written at once, without waiting for `LOG_FLUSH_MS`. */
const FLUSH_BYTES = 64 * 1024;

/**
 * A log destination that gathers lines for up to `LOG_FLUSH_MS` (or 64 KiB) and writes them in one synchronous write,
 * instead of one write per line while a request is still being answered: on a machine where a write to a pipe costs a
 * quarter of a millisecond (it wakes the reader), an access-log line per request cost as much as the request. The
 * process's exit (`process.exit()`, an uncaught error, the end of its work) writes what is left before it ends; only a
 * SIGKILL can lose lines, those of its last 10 ms. Lines are written in order.
 */
export class BatchedDestination {
  private lines: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly fd: number,
    private readonly flushMs = LOG_FLUSH_MS,
  ) {
    process.on('exit', () => this.flush());
  }

  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) {
      this.flush();
    } else if (!this.timer) {
      // Unreferenced: a pending write never keeps a process alive (its exit writes it).
      this.timer = setTimeout(() => this.flush(), this.flushMs).unref();
    }
  }

  /** Writes every line not yet written, now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.bytes = 0;
    if (this.lines.length === 0) {
      return;
    }
    let bytes = Buffer.from(this.lines.length === 1 ? (this.lines[0] ?? '') : this.lines.join(''));
    this.lines = [];
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(fs.writeSync(this.fd, bytes));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          // Nowhere left to say so (the descriptor is closed or broken): the lines are dropped.
          return;
        }
        Atomics.wait(this.sleeper, 0, 0, FULL_WAIT_MS);
      }
    }
  }
}

import fs from 'node:fs';

/** How long a write waits when the descriptor is full (a non-blocking pipe nobody reads fast enough). */
const FULL_WAIT_MS = 1;

/**
 * A log destination that writes the lines of one event-loop turn together, in one synchronous write after the turn
 * (`setImmediate`), instead of one write per line while a request is still being answered: the response leaves
 * first, and under load a turn's many lines cost one system call. Nothing waits in memory longer than a turn, and the
 * process's exit (`process.exit()`, an uncaught error, the end of its work) writes what is left before it ends; only a
 * SIGKILL can lose the lines of the turn it interrupts. Lines are written in order.
 */
export class TurnDestination {
  private lines: string[] = [];
  private scheduled = false;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly fd: number) {
    process.on('exit', () => this.flush());
  }

  write(line: string): void {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      // Unreferenced: a pending write never keeps a process alive (its exit writes it).
      setImmediate(() => this.flush()).unref();
    }
  }

  /** Writes every line not yet written, now. */
  flush(): void {
    this.scheduled = false;
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

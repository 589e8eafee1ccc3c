import fs from 'node:fs';

/** How long, at most, a line waits to be written. */
export const LOG_FLUSH_MS = 10;
/** Bytes of lines written at once, without waiting for `LOG_FLUSH_MS`. */
const FLUSH_BYTES = 64 * 1024;
/** How soon a write the descriptor refused (full) is tried again. */
const FULL_RETRY_MS = 5;
/** Bytes held for a descriptor that takes nothing, beyond which new lines are dropped (and counted). */
const MAX_HELD_BYTES = 16 * 1024 * 1024;
/** How long the process's exit waits, in all, for a full descriptor to take what is left. */
const EXIT_WAIT_MS = 1_000;

/** How the destination behaves: its waits and limits (the defaults above; tests make them small). */
export interface BatchedDestinationSettings {
  readonly flushMs?: number;
  readonly maxHeldBytes?: number;
  readonly exitWaitMs?: number;
}

/**
 * A log destination that gathers lines for up to `LOG_FLUSH_MS` (or 64 KiB) and writes them in one write, instead of
 * one write per line while a request is still being answered: on a machine where a write to a pipe costs a quarter of
 * a millisecond (it wakes the reader), an access-log line per request cost as much as the request.
 *
 * It never waits for the descriptor while the process runs: when a non-blocking pipe is full (its reader, a log
 * shipper say, stalls), what it did not take is held and tried again `FULL_RETRY_MS` later, so a stalled reader costs
 * memory, never the event loop. At most 16 MiB are held; lines beyond are dropped, and once the pipe takes lines again
 * a warning line says how many went. The process's exit (`process.exit()`, an uncaught error, the end of its work)
 * writes what is left, waiting up to a second for a full pipe; only a SIGKILL can lose lines, those of its last 10 ms.
 * Lines are written in order.
 *
 * A descriptor that blocks still stops the thread in `write`: Node makes a pipe non-blocking when it opens it as
 * process.stderr, and libuv makes it blocking again for any child process spawned with it as its own stderr.
 * Roundhouse spawns none so (tsx compiling through esbuild does, in development).
 */
export class BatchedDestination {
  private lines: string[] = [];
  private bytes = 0;
  /**
   * Bytes the descriptor refused (it was full), in order, written before any new line: kept as the pieces they came
   * in, so that a retry writes from the first rather than copying everything held into one buffer each time.
   */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly settings: Required<BatchedDestinationSettings>;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly fd: number,
    settings: BatchedDestinationSettings = {},
  ) {
    this.settings = {
      flushMs: settings.flushMs ?? LOG_FLUSH_MS,
      maxHeldBytes: settings.maxHeldBytes ?? MAX_HELD_BYTES,
      exitWaitMs: settings.exitWaitMs ?? EXIT_WAIT_MS,
    };
    process.on('exit', () => this.flushAtExit());
  }

  write(line: string): void {
    if (this.heldBytes > 0 && this.heldBytes + this.bytes + line.length > this.settings.maxHeldBytes) {
      this.dropped += 1;
      return;
    }
    this.lines.push(line);
    this.bytes += line.length;
    // While the descriptor is full, the retry already scheduled writes them.
    if (this.bytes >= FLUSH_BYTES && this.heldBytes === 0) {
      this.flush();
    } else if (!this.timer) {
      this.schedule(this.settings.flushMs);
    }
  }

  /**
   * Writes every line not yet written, as far as the descriptor takes them now; the rest is held and tried again
   * shortly. Answers whether nothing is left.
   */
  flush(): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dropped > 0 && this.heldBytes === 0) {
      this.hold(Buffer.from(droppedNotice(this.dropped)));
      this.dropped = 0;
    }
    if (this.lines.length > 0) {
      this.hold(Buffer.from(this.lines.length === 1 ? (this.lines[0] ?? '') : this.lines.join('')));
      this.lines = [];
      this.bytes = 0;
    }
    for (let first = this.held[0]; first !== undefined; first = this.held[0]) {
      let written: number;
      try {
        written = fs.writeSync(this.fd, first);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          // Nowhere left to say so (the descriptor is closed or broken): the lines are dropped.
          this.held = [];
          this.heldBytes = 0;
          return true;
        }
        this.schedule(FULL_RETRY_MS);
        return false;
      }
      this.heldBytes -= written;
      if (written < first.length) {
        this.held[0] = first.subarray(written);
      } else {
        this.held.shift();
      }
    }
    if (this.dropped > 0) {
      // Lines were dropped while the last of the held ones went: say so now.
      return this.flush();
    }
    return true;
  }

  private hold(bytes: Buffer): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  private schedule(ms: number): void {
    // Unreferenced: a pending write never keeps a process alive (its exit writes it).
    this.timer = setTimeout(() => this.flush(), ms).unref();
  }

  /** At the process's exit: everything left, waiting for a full descriptor up to `exitWaitMs` in all. */
  private flushAtExit(): void {
    const deadline = performance.now() + this.settings.exitWaitMs;
    while (!this.flush() && performance.now() < deadline) {
      Atomics.wait(this.sleeper, 0, 0, 1);
    }
    clearTimeout(this.timer);
  }
}

/** The warning line written once a full descriptor takes lines again, in the logger's own form. */
function droppedNotice(count: number): string {
  const message = `${count} log line${count === 1 ? ' was' : 's were'} dropped: the log's reader did not keep up`;
  return `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), message })}\n`;
}

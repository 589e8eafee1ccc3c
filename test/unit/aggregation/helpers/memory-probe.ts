import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { kernelMemoryBytes } from '../../../../src/kernels/float-kernels';

/**
 * Node's own `gc`, reached without the --expose-gc command-line flag (jest starts the workers): the flag is set at
 * run time and a fresh context then has `gc` as a global.
 */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') {
    throw new Error('could not reach the garbage collector');
  }
  return () => {
    Reflect.apply(gc, undefined, []);
  };
}

/**
 * Tracks the peak of live JS heap plus ArrayBuffer and WebAssembly memory above a baseline. The engine's memory is all
 * typed arrays, which `arrayBuffers` and `kernelMemoryBytes` count; each sample first collects garbage (the sources' spent chunks), so the figure is
 * what the engine actually holds. Samples are taken inside the data path (every chunk), not on a timer.
 */
export class MemoryProbe {
  private readonly gc = exposeGc();
  private readonly baseline: number;
  private peakBytes = 0;

  constructor() {
    this.gc();
    this.baseline = MemoryProbe.current();
  }

  /** Collects garbage, then records the current usage. */
  sample(): void {
    this.gc();
    this.peakBytes = Math.max(this.peakBytes, MemoryProbe.current() - this.baseline);
  }

  /** The highest live usage above the baseline seen so far. */
  get peak(): number {
    return this.peakBytes;
  }

  /**
   * Wraps a chunk stream so every `every`-th chunk of at least `minBytes` takes a sample (each one is a full GC, so
   * keep them to a few hundred).
   */
  async *probe(chunks: AsyncIterable<Uint8Array>, minBytes = 0, every = 1): AsyncGenerator<Uint8Array> {
    let seen = 0;
    for await (const chunk of chunks) {
      if (chunk.length >= minBytes && seen++ % every === 0) {
        this.sample();
      }
      yield chunk;
    }
  }

  private static current(): number {
    const usage = process.memoryUsage();
    // WebAssembly memories (the sums and chunks of the SIMD kernels) are not among the ArrayBuffers Node counts.
    return usage.heapUsed + usage.arrayBuffers + kernelMemoryBytes();
  }
}

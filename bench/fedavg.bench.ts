import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { aggregate } from '../src/aggregation/aggregate';
import { openSource, withAccess } from '../src/onnx/model-source';
import type { ModelSource } from '../src/onnx/model-source';
import { baselineFold } from './baseline-fold';
import { diskSources, LAYOUTS, memorySources } from './bench-data';
import type { BenchCase, CaseSources } from './bench-data';

/** What one run of one case reports (one JSON line on stdout). */
export interface CaseResult {
  readonly mode: 'engine' | 'baseline';
  readonly seconds: number;
  readonly updateBytes: number;
  readonly modelBytes: number;
  readonly rssBefore: number;
  readonly rssPeak: number;
}

/**
 * One benchmark case in one mode, in a process of its own so its peak RSS is its own. Run by `bench/run.ts`:
 * `node --expose-gc --import tsx bench/fedavg.bench.ts --size 10M --updates 10 --storage memory --mode engine`
 * (`--method fedmedian` and the like run another strategy through the engine).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      updates: { type: 'string' },
      storage: { type: 'string' },
      mode: { type: 'string' },
      dir: { type: 'string' },
      method: { type: 'string', default: 'fedavg' },
      params: { type: 'string', default: '{}' },
    },
  });
  const params = JSON.parse(values.params ?? '{}') as Record<string, unknown>;
  const method = values.method ?? 'fedavg';
  const layout = LAYOUTS[values.size ?? ''];
  const storage = values.storage === 'disk' ? 'disk' : 'memory';
  const mode = values.mode === 'baseline' ? 'baseline' : 'engine';
  const dir = values.dir ?? '';
  if (layout === undefined) {
    throw new Error(`unknown size ${values.size}`);
  }
  const benchCase: BenchCase = { layout, updates: Number(values.updates), storage };
  const sources = storage === 'disk' ? diskSources(benchCase, dir) : await memorySources(benchCase);
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  // Reading RSS costs a /proc read: one in eight chunks is plenty, the accumulator is held from start to end.
  let chunks = 0;
  const sample = (): void => {
    if (chunks++ % 8 === 0) {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }
  };
  // Small in-memory cases run a few times and keep the best time: one run is mostly JIT warm-up at 1M parameters.
  const repeats =
    storage === 'disk' ? 1 : Math.max(1, Math.min(5, Math.round(2e9 / (sources.modelBytes * benchCase.updates))));
  let seconds = Infinity;
  for (let run = 0; run < repeats; run++) {
    const sink = storage === 'disk' ? fileSink(join(dir, `out-${mode}.bin`)) : memorySink();
    const started = process.hrtime.bigint();
    if (mode === 'engine') {
      await runEngine(sources, sink.write, sample, method, params);
    } else {
      await baselineFold(layout, withProbe(sources, sample), sink.write, sample);
    }
    await sink.close();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - started) / 1e9);
    // A WebAssembly memory's pages go back to the system a moment after the collection that frees it, not during it.
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    global.gc?.();
  }
  const result: CaseResult = {
    mode,
    seconds,
    updateBytes: sources.modelBytes * benchCase.updates,
    modelBytes: sources.modelBytes,
    rssBefore,
    rssPeak,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function runEngine(
  sources: CaseSources,
  write: (chunk: Uint8Array) => Promise<void>,
  sample: () => void,
  method: string,
  params: Readonly<Record<string, unknown>>,
): Promise<void> {
  const probed = withProbe(sources, sample);
  const result = await aggregate({
    method,
    params,
    global: probed.global,
    updates: probed.updates.map((update, i) => ({ clientId: `client-${String(i).padStart(3, '0')}`, ...update })),
  });
  for await (const chunk of result.model) {
    sample();
    await write(chunk);
  }
}

/** Samples RSS with every chunk streamed and every positional read, keeping both ways of reading the sources. */
function withProbe(sources: CaseSources, sample: () => void): CaseSources {
  const wrap = (source: ModelSource): ModelSource => {
    async function* probed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of openSource(source)) {
        sample();
        yield chunk;
      }
    }
    const open = source.openAccess;
    if (open === undefined) {
      return probed;
    }
    return withAccess(probed, async () => {
      const access = await open();
      return {
        size: access.size,
        readInto: (into, position) => {
          sample();
          return access.readInto(into, position);
        },
        close: () => access.close(),
      };
    });
  };
  return {
    ...sources,
    global: wrap(sources.global),
    updates: sources.updates.map((u) => ({ ...u, source: wrap(u.source) })),
  };
}

function memorySink(): { write: (chunk: Uint8Array) => Promise<void>; close: () => Promise<void> } {
  let bytes = 0;
  return {
    write: async (chunk) => void (bytes += await Promise.resolve(chunk.length)),
    close: () => Promise.resolve(),
  };
}

function fileSink(path: string): { write: (chunk: Uint8Array) => Promise<void>; close: () => Promise<void> } {
  const stream = createWriteStream(path);
  return {
    write: async (chunk) => {
      if (!stream.write(chunk)) {
        await once(stream, 'drain');
      }
    },
    close: async () => {
      stream.end();
      await once(stream, 'finish');
      await rm(path, { force: true });
    },
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

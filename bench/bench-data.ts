import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSource } from '../src/onnx/model-source';
import { bytesSource, collectBytes, fileSource, writeChunksToFile } from '../src/onnx/model-source';
import { syntheticModel, syntheticModelBytes } from '../test/fixtures/models/synthetic-model';
import type { SyntheticLayout } from '../test/fixtures/models/synthetic-model';

/** One benchmark case: model size, number of updates, and where the updates live. */
export interface BenchCase {
  readonly layout: SyntheticLayout;
  readonly updates: number;
  readonly storage: 'memory' | 'disk';
}

/** The layouts behind "1M", "10M" and "100M" parameters: tensors of at most 4 Mi floats, like large layers. */
export const LAYOUTS: Readonly<Record<string, SyntheticLayout>> = {
  '1M': { tensors: 4, elements: 1 << 18 },
  '10M': { tensors: 10, elements: 1 << 20 },
  '100M': { tensors: 25, elements: 1 << 22 },
};

/** In-memory cases replay a few distinct models (zero-copy views), so no update is generated inside the timing. */
const MEMORY_POOL = 4;

/** The sources of one case: the global model and each update with its sample size. */
export interface CaseSources {
  readonly global: ModelSource;
  readonly updates: readonly { readonly sampleSize: number; readonly source: ModelSource }[];
  readonly modelBytes: number;
}

/** Builds the in-memory pool for a case (before timing starts). */
export async function memorySources(benchCase: BenchCase): Promise<CaseSources> {
  const pool: Uint8Array[] = [];
  for (let seed = 0; seed <= Math.min(MEMORY_POOL, benchCase.updates); seed++) {
    pool.push(await collectBytes(syntheticModel(benchCase.layout, seed)));
  }
  const at = (i: number): Uint8Array => pool[i] ?? new Uint8Array(0);
  return {
    global: bytesSource(at(0)),
    updates: Array.from({ length: benchCase.updates }, (_, i) => ({
      sampleSize: 100 + i,
      source: bytesSource(at(1 + (i % (pool.length - 1)))),
    })),
    modelBytes: syntheticModelBytes(benchCase.layout),
  };
}

/** Paths of a disk case's files inside `dir`. */
export function diskPaths(dir: string, updates: number): { global: string; updates: string[] } {
  return {
    global: join(dir, 'global.onnx'),
    updates: Array.from({ length: updates }, (_, i) => join(dir, `update-${i}.onnx`)),
  };
}

/** Writes a disk case's global model and N distinct updates, streaming each from the generator. */
export async function writeDiskCase(benchCase: BenchCase, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const paths = diskPaths(dir, benchCase.updates);
  await writeChunksToFile(syntheticModel(benchCase.layout, 0, 1 << 20), paths.global);
  for (const [i, path] of paths.updates.entries()) {
    await writeChunksToFile(syntheticModel(benchCase.layout, i + 1, 1 << 20), path);
  }
}

/** The sources of a disk case, read from the files `writeDiskCase` wrote. */
export function diskSources(benchCase: BenchCase, dir: string): CaseSources {
  const paths = diskPaths(dir, benchCase.updates);
  return {
    global: fileSource(paths.global),
    updates: paths.updates.map((path, i) => ({ sampleSize: 100 + i, source: fileSource(path) })),
    modelBytes: syntheticModelBytes(benchCase.layout),
  };
}

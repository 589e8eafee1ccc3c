import { openSource } from '../src/onnx/model-source';
import { prefetch } from '../src/onnx/prefetch';
import { syntheticValueOffset } from '../test/fixtures/models/synthetic-model';
import type { SyntheticLayout } from '../test/fixtures/models/synthetic-model';
import type { CaseSources } from './bench-data';

/**
 * The floor the engine is compared with: the same streams folded by a plain typed-array loop that already knows
 * where every tensor's floats sit (no protobuf parsing, no checks, no template), one tensor buffered at a time with
 * the same read-ahead as the engine, then written out as float32.
 */
export async function baselineFold(
  layout: SyntheticLayout,
  sources: CaseSources,
  sink: (chunk: Uint8Array) => Promise<void>,
  onChunk: () => void,
): Promise<void> {
  const sums = Array.from({ length: layout.tensors }, () => new Float64Array(layout.elements));
  const starts = sums.map((_, t) => syntheticValueOffset(layout, t, 0));
  const tensor = new Float32Array(layout.elements);
  const tensorBytes = new Uint8Array(tensor.buffer);
  const total = sources.updates.reduce((sum, update) => sum + update.sampleSize, 0);
  for (const update of sources.updates) {
    const weight = update.sampleSize / total;
    let position = 0;
    let t = 0;
    for await (const chunk of prefetch(openSource(update.source), 4 << 20)) {
      onChunk();
      let offset = 0;
      while (offset < chunk.length && t < layout.tensors) {
        const start = starts[t] ?? 0;
        const end = start + tensorBytes.length;
        const from = Math.max(position + offset, start);
        const to = Math.min(position + chunk.length, end);
        if (from >= to) {
          break;
        }
        tensorBytes.set(chunk.subarray(from - position, to - position), from - start);
        offset = to - position;
        if (to === end) {
          addScaled(sums[t] ?? new Float64Array(0), tensor, weight);
          t++;
        }
      }
      position += chunk.length;
    }
  }
  for (const sum of sums) {
    await sink(new Uint8Array(Float32Array.from(sum).buffer));
  }
}

function addScaled(sum: Float64Array, values: Float32Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ReferenceTensor } from './reference-onnx';

const entrySchema = z.object({
  dtype: z.literal('F32'),
  shape: z.array(z.number()),
  data_offsets: z.tuple([z.number(), z.number()]),
});

/** An independent safetensors parse of a file of F32 tensors (the test's own, not the engine's reader). */
export function readReferenceSafetensors(path: string): Map<string, ReferenceTensor> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = z
    .record(z.string(), z.unknown())
    .parse(JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')));
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, ReferenceTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      continue;
    }
    const entry = entrySchema.parse(raw);
    const [begin, end] = entry.data_offsets;
    const values = new Float64Array(
      Float32Array.from({ length: (end - begin) / 4 }, (_, i) => data.readFloatLE(begin + 4 * i)),
    );
    out.set(name, { dims: entry.shape, dataType: 1, values });
  }
  return out;
}

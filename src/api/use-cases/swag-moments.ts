import fs from 'node:fs/promises';
import { isAggregationError } from '../../aggregation/errors';
import { readSafetensors } from '../../aggregation/safetensors';
import type { ManifestEntry } from '../../db/models/model';
import { invalidInput } from '../../errors';
import type { UploadedFile } from '../routing/uploaded-files';

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'float64', 'bfloat16']);

/**
 * Checks a SWAG moment file against the global model's manifest (docs/training.md#the-swag-round): a safetensors file with one
 * float32 tensor per float initializer, named and shaped as the manifest says, nothing else, all values finite (and
 * not negative for the second moment).
 * @throws 400 naming the field and the first tensor that is wrong.
 */
export async function checkMomentFile(
  file: UploadedFile,
  field: 'first_moment_file' | 'second_moment_file',
  manifest: readonly ManifestEntry[],
): Promise<void> {
  const bytes = await fs.readFile(file.path);
  let tensors;
  try {
    tensors = readSafetensors(bytes).tensors;
  } catch (err) {
    if (isAggregationError(err)) {
      throw invalidInput(`Invalid ${field}: ${err.message}`, { reason: err.code });
    }
    throw err;
  }
  const expected = manifest.filter((entry) => FLOAT_DTYPES.has(entry.dtype));
  for (const entry of expected) {
    const tensor = tensors.get(entry.name);
    if (!tensor) {
      throw momentError(field, entry.name, `has no tensor "${entry.name}"`);
    }
    if (tensor.shape.length !== entry.shape.length || tensor.shape.some((dim, i) => dim !== entry.shape[i])) {
      throw momentError(
        field,
        entry.name,
        `tensor "${entry.name}" has shape [${tensor.shape.join(', ')}], the model's initializer [${entry.shape.join(', ')}]`,
      );
    }
    const bad = tensor.values.findIndex((v) => !Number.isFinite(v) || (field === 'second_moment_file' && v < 0));
    if (bad >= 0) {
      throw momentError(field, entry.name, `tensor "${entry.name}" holds ${tensor.values[bad]} at element ${bad}`);
    }
  }
  const names = new Set(expected.map((entry) => entry.name));
  const extra = [...tensors.keys()].find((name) => !names.has(name));
  if (extra !== undefined) {
    throw momentError(field, extra, `tensor "${extra}" is not a float initializer of the model`);
  }
}

function momentError(field: string, tensor: string, problem: string): ReturnType<typeof invalidInput> {
  return invalidInput(`Invalid ${field}: ${problem}.`, { reason: 'swag_moment_mismatch', tensor });
}

import { createReadStream } from 'node:fs';
import { checkModel, checkUpdate } from '../../onnx/checks';
import type { ModelSummary } from '../../onnx/summary';
import type { ManifestEntry } from '../../db/models/model';
import type { StoredWeights } from '../../db/queries/models';
import { engineRefusal, invalidInput } from '../../errors';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFile, UploadedFiles } from '../routing/uploaded-files';

/** A model file that passed its checks and is stored. */
export interface CheckedModel {
  readonly summary: ModelSummary;
  readonly weights: StoredWeights;
}

/** The one file of field `name`. @throws 400 "No uploaded file '<name>' found." (the reference's text). */
export function requireFile(files: UploadedFiles, name: string): UploadedFile {
  const file = files.get(name)?.[0];
  if (!file) {
    throw invalidInput(`No uploaded file '${name}' found.`);
  }
  return file;
}

/** The one file of field `name`, if sent. */
export function optionalFile(files: UploadedFiles, name: string): UploadedFile | undefined {
  return files.get(name)?.[0];
}

/**
 * Checks an uploaded ONNX file (parses, no external data, finite weights; with `global`, the same graph and manifest)
 * and only then stores it, so a refused file leaves no blob behind.
 * @param what how the reference names the file in its message: `model file`, `preprocessing file`.
 * @throws 400 `Invalid <what>: <reason>` with the engine's code and tensor in `details`.
 */
export async function checkAndStoreModel(
  blobs: BlobStore,
  file: UploadedFile,
  what: string,
  global?: ModelSummary,
): Promise<CheckedModel> {
  return await checkAndStore(blobs, () => readFile(file), what, global);
}

/** `checkAndStoreModel` of a model read from `source` (read twice: once checked, once stored). */
export async function checkAndStore(
  blobs: BlobStore,
  source: () => AsyncIterable<Uint8Array>,
  what: string,
  global?: ModelSummary,
): Promise<CheckedModel> {
  const result = global ? await checkUpdate(source(), global) : await checkModel(source());
  if (!result.ok) {
    throw engineRefusal(what, result.error);
  }
  const weights = await blobs.put(source());
  return { summary: result.summary, weights };
}

/** The manifest as stored on a model row. */
export function manifestOf(summary: ModelSummary): ManifestEntry[] {
  return summary.manifest.map((entry) => ({ name: entry.name, dtype: entry.dtype, shape: [...entry.shape] }));
}

function readFile(file: UploadedFile): AsyncIterable<Uint8Array> {
  return createReadStream(file.path, { highWaterMark: 1 << 20 });
}

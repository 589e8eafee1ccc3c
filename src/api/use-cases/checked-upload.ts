import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { checkModel, checkUpdate } from '../../models/checks';
import type { ModelSummary } from '../../onnx/summary';
import type { ManifestEntry, ModelFormat } from '../../db/models/model';
import type { StoredWeights } from '../../db/queries/models';
import { engineRefusal, invalidInput, onnxRequired } from '../../errors';
import { rewriteOntoGlobal } from '../../models/write';
import type { ModelSource } from '../../onnx/model-source';
import { bytesSource, collectBytes, openSource } from '../../onnx/model-source';
import type { BlobStore } from '../../storage/blob-store';
import type { UploadedFile, UploadedFiles } from '../routing/uploaded-files';

/** A model file that passed its checks and is stored. */
export interface CheckedModel {
  readonly summary: ModelSummary;
  readonly weights: StoredWeights;
  /**
   * SHA-256 of the file as it was sent: the stored weights' digest, except for a PyTorch update, which is stored
   * rewritten. A retry of the same upload is recognized by it.
   */
  readonly sentDigest: string;
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

/** The global model an update is checked against: its summary, and its bytes (a PyTorch update is rewritten onto them). */
export interface UpdateBase {
  readonly summary: ModelSummary;
  readonly source: ModelSource;
}

/** What a model file is checked against besides the upload checks. */
export interface UploadCheck {
  /** The global model an update is for: an update must match it. */
  readonly global?: UpdateBase;
  /** Refuse a PyTorch archive (a preprocessing graph runs in onnxruntime). */
  readonly onnxOnly?: boolean;
}

/** A model file that passed its checks and is not stored yet: `store` stores it (once every other check passed). */
export interface PendingModel {
  readonly summary: ModelSummary;
  store(): Promise<CheckedModel>;
}

/**
 * Checks an uploaded model file (ONNX: parses, no external data, finite weights; a PyTorch archive: read without
 * running anything, finite weights; with `global`, the same graph or layout and manifest) and only then stores it,
 * so a refused file leaves no blob behind. A PyTorch update is stored rewritten onto the global model's archive.
 * @param what how the reference names the file in its message: `model file`, `preprocessing file`.
 * @throws 400 `Invalid <what>: <reason>` with the engine's code and tensor in `details`.
 */
export async function checkAndStoreModel(
  blobs: BlobStore,
  file: UploadedFile,
  what: string,
  check: UploadCheck = {},
): Promise<CheckedModel> {
  return await (await checkModelFile(blobs, file, what, check)).store();
}

/**
 * `checkAndStoreModel` without the storing: a request with several files checks them all before storing any, so a
 * refused second file leaves no blob of the first behind.
 */
export async function checkModelFile(
  blobs: BlobStore,
  file: UploadedFile,
  what: string,
  check: UploadCheck = {},
): Promise<PendingModel> {
  return await checkSource(blobs, () => readFile(file), what, check);
}

/** `checkAndStoreModel` of a model read from `source` (read twice: once checked, once stored). */
export async function checkAndStore(
  blobs: BlobStore,
  source: () => AsyncIterable<Uint8Array>,
  what: string,
  check: UploadCheck = {},
): Promise<CheckedModel> {
  return await (await checkSource(blobs, source, what, check)).store();
}

async function checkSource(
  blobs: BlobStore,
  source: () => AsyncIterable<Uint8Array>,
  what: string,
  check: UploadCheck,
): Promise<PendingModel> {
  const { global } = check;
  if (global?.summary.torch !== undefined) {
    return await checkTorchUpdate(blobs, source, what, global);
  }
  const result = global ? await checkUpdate(source(), global.summary) : await checkModel(source());
  if (!result.ok) {
    throw engineRefusal(what, result.error);
  }
  if (check.onnxOnly === true && result.summary.torch !== undefined) {
    throw onnxRequired(`A ${what}`);
  }
  const { summary } = result;
  const store = async (): Promise<CheckedModel> => {
    const weights = await blobs.put(source());
    return { summary, weights, sentDigest: weights.digest };
  };
  return { summary, store };
}

/**
 * An update of a PyTorch global model: an archive is read whole anyway (its zip directory is at its end), so the file
 * is read once, checked, and stored rewritten onto the global model's archive.
 */
async function checkTorchUpdate(
  blobs: BlobStore,
  source: () => AsyncIterable<Uint8Array>,
  what: string,
  global: UpdateBase,
): Promise<PendingModel> {
  const sent = await collectBytes(source());
  const result = await checkUpdate(bytesSource(sent)(), global.summary);
  if (!result.ok) {
    throw engineRefusal(what, result.error);
  }
  const { summary } = result;
  const store = async (): Promise<CheckedModel> => {
    const rewritten = rewriteOntoGlobal(await collectBytes(openSource(global.source)), sent);
    const weights = await blobs.put(bytesSource(rewritten)());
    return { summary, weights, sentDigest: createHash('sha256').update(sent).digest('hex') };
  };
  return { summary, store };
}

/** What the model's weights are, as stored on its row. */
export function formatOf(summary: ModelSummary): ModelFormat {
  if (summary.torch === undefined) {
    return 'onnx';
  }
  return summary.torch.kind === 'torchscript' ? 'torchscript' : 'torch_state_dict';
}

/** The manifest as stored on a model row. */
export function manifestOf(summary: ModelSummary): ManifestEntry[] {
  return summary.manifest.map((entry) => ({ name: entry.name, dtype: entry.dtype, shape: [...entry.shape] }));
}

function readFile(file: UploadedFile): AsyncIterable<Uint8Array> {
  return createReadStream(file.path, { highWaterMark: 1 << 20 });
}

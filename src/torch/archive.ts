import { ITEM_SIZE } from './dtypes';
import type { TorchDtype } from './dtypes';
import { isTorchArchiveError, TorchArchiveError } from './errors';
import type { TensorManifestEntry, TorchArchiveKind } from './manifest';
import { tensorManifest } from './manifest';
import { scanPickle } from './pickle-scanner';
import type { ZipEntry } from './zip';
import { entryBytes, readZipDirectory, verifyCrc } from './zip';

/** A PyTorch archive as read: what it is, where its parts are, and its tensors. */
export interface TorchArchive {
  readonly kind: TorchArchiveKind;
  /** The zip's one top-level folder: `archive` when saved to a buffer, else named after the file. */
  readonly folder: string;
  readonly entries: readonly ZipEntry[];
  readonly manifest: readonly TensorManifestEntry[];
  /** Each storage the tensors use, by key: its zip entry, dtype and element count. */
  readonly storages: ReadonlyMap<string, TorchStorage>;
}

/** A storage the tensors view: the archive's `data/<key>` entry, stored uncompressed. */
export interface TorchStorage {
  readonly key: string;
  readonly dtype: TorchDtype;
  readonly numel: number;
  readonly entry: ZipEntry;
}

export interface ReadOptions {
  /** Check every entry's CRC-32 (deflated entries are inflated for it); true unless said otherwise. */
  readonly verifyCrc?: boolean;
}

/** A model's pickles are a few KiB per module; a larger one is refused before it is read. */
const MAX_PICKLE_BYTES = 16 << 20;

/**
 * Reads a PyTorch zip archive held whole, without running anything in it: the zip directory, `data.pkl` through
 * the pickle scanner, and each tensor checked against its storage entry. Refuses anything else with a
 * `TorchArchiveError` whose `code` names the cause.
 */
export function readTorchArchive(bytes: Uint8Array, options: ReadOptions = {}): TorchArchive {
  const { entries } = readZipDirectory(bytes);
  const folder = commonFolder(entries);
  const byName = new Map(entries.map((entry) => [entry.name.slice(folder.length + 1), entry]));
  if (options.verifyCrc ?? true) {
    for (const entry of entries) {
      verifyCrc(entryBytes(bytes, entry, false), entry);
    }
  }
  checkByteOrder(bytes, byName.get('byteorder'));
  const kind: TorchArchiveKind =
    byName.has('constants.pkl') || [...byName.keys()].some((name) => name.startsWith('code/'))
      ? 'torchscript'
      : 'state_dict';
  const pickle = byName.get('data.pkl');
  if (pickle === undefined) {
    throw layout(`the archive has no ${folder}/data.pkl`);
  }
  const scan = { torchScript: kind === 'torchscript' };
  // TorchScript's other pickles (constants.pkl, code/**/*.debug_pkl) are scanned too: an archive that is accepted
  // names nothing outside the allow-list anywhere, whoever later loads it.
  for (const entry of entries.filter((candidate) => candidate !== pickle && /\.(debug_)?pkl$/.test(candidate.name))) {
    inPickle(entry, () => scanPickle(pickleBytes(bytes, entry), scan));
  }
  const manifest = inPickle(pickle, () => tensorManifest(scanPickle(pickleBytes(bytes, pickle), scan), kind));
  const storages = new Map<string, TorchStorage>();
  for (const tensor of manifest) {
    checkTensor(tensor, storageOf(tensor, byName, storages));
  }
  return { kind, folder, entries, manifest, storages };
}

/** A pickle entry's bytes, refused unread when larger than any model's. */
function pickleBytes(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  if (entry.size > MAX_PICKLE_BYTES) {
    throw layout(`${entry.name} is ${entry.size} bytes, more than the ${MAX_PICKLE_BYTES} a model's pickle needs`);
  }
  return entryBytes(bytes, entry, false);
}

/** Runs `read` over one pickle entry, naming the entry in what it refuses. */
function inPickle<T>(entry: ZipEntry, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isTorchArchiveError(error) && error.entry === undefined) {
      throw new TorchArchiveError(error.code, `${entry.name}: ${error.message}`, {
        entry: entry.name,
        tensor: error.tensor,
      });
    }
    throw error;
  }
}

/** The one folder every entry sits in, as PyTorch writes archives. */
function commonFolder(entries: readonly ZipEntry[]): string {
  const folder = entries[0]?.name.split('/')[0] ?? '';
  const outside = entries.find((entry) => !entry.name.startsWith(`${folder}/`));
  if (folder === '' || outside !== undefined) {
    throw layout(`the entries are not all in one folder (${outside?.name ?? 'the archive is empty'})`);
  }
  return folder;
}

/** Storages are read as little-endian: a big-endian archive would be misread, so it is refused. */
function checkByteOrder(bytes: Uint8Array, entry: ZipEntry | undefined): void {
  const order = entry === undefined ? 'little' : new TextDecoder().decode(entryBytes(bytes, entry, false)).trim();
  if (order !== 'little') {
    throw layout(`the archive's byte order is ${order}; only little-endian archives are read`);
  }
}

/** The storage `tensor` views, the same for every tensor that shares its key. */
function storageOf(
  tensor: TensorManifestEntry,
  byName: ReadonlyMap<string, ZipEntry>,
  storages: Map<string, TorchStorage>,
): TorchStorage {
  const entry = byName.get(`data/${tensor.storageKey}`);
  if (entry === undefined) {
    throw invalid(tensor, `its storage data/${tensor.storageKey} is not in the archive`);
  }
  if (entry.method !== 0) {
    throw invalid(tensor, `its storage ${entry.name} is compressed; PyTorch stores storages uncompressed`);
  }
  return storages.get(tensor.storageKey) ?? register(tensor, entry, storages);
}

function register(tensor: TensorManifestEntry, entry: ZipEntry, storages: Map<string, TorchStorage>): TorchStorage {
  const numel = entry.size / ITEM_SIZE[tensor.dtype];
  if (!Number.isInteger(numel)) {
    throw invalid(tensor, `its storage ${entry.name} of ${entry.size} bytes is no whole number of ${tensor.dtype}`);
  }
  const storage = { key: tensor.storageKey, dtype: tensor.dtype, numel, entry };
  storages.set(storage.key, storage);
  return storage;
}

/** Refuses a tensor whose dtype differs from its storage's or whose elements reach past the storage's end. */
function checkTensor(tensor: TensorManifestEntry, storage: TorchStorage): void {
  if (storage.dtype !== tensor.dtype) {
    throw invalid(tensor, `it reads storage ${storage.key} as ${tensor.dtype}, another tensor as ${storage.dtype}`);
  }
  if (tensor.shape.some((size) => size === 0)) {
    return;
  }
  const last = tensor.shape.reduce((sum, size, i) => sum + (size - 1) * (tensor.strides[i] ?? 0), tensor.storageOffset);
  if (last >= storage.numel) {
    throw invalid(tensor, `it reaches element ${last} of storage ${storage.key}, which holds ${storage.numel}`);
  }
}

function invalid(tensor: TensorManifestEntry, why: string): TorchArchiveError {
  return new TorchArchiveError('torch_tensor_invalid', `the tensor ${tensor.name} is invalid: ${why}`, {
    tensor: tensor.name,
  });
}

function layout(message: string): TorchArchiveError {
  return new TorchArchiveError('torch_archive_layout', message);
}

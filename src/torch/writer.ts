import { AggregationError } from '../aggregation/errors';
import type { TensorInfo } from '../onnx/manifest';
import { crc32 } from './crc32';
import type { TorchStorage } from './archive';
import type { ReadTorchModel } from './engine';
import { tensorBytes } from './engine';
import type { ZipEntry } from './zip';

/** New little-endian bytes for one tensor, in the template's dtype; undefined keeps the template's. */
export type TensorBytesProvider = (info: TensorInfo, index: number) => Uint8Array | undefined;

const DATA_DESCRIPTOR = 0x08074b50;

/**
 * The template archive with new bytes for some tensors: every byte is the template's but those tensors' elements
 * in their storages and the CRC-32s of the storages that changed (in the central directory, the local header and
 * the data descriptor, wherever the template recorded it). Sizes and offsets do not move, so a TorchScript result
 * loads with `torch.jit.load` and a state dict with `torch.load(weights_only=True)` exactly as the template did.
 */
export function writeTorchArchive(template: ReadTorchModel, valuesFor: TensorBytesProvider): Uint8Array {
  const out = Uint8Array.from(template.bytes);
  const changed = new Set<TorchStorage>();
  template.archive.manifest.forEach((entry, index) => {
    const info = template.summary.manifest[index];
    const bytes = info === undefined ? undefined : valuesFor(info, index);
    if (bytes === undefined) {
      return;
    }
    const target = tensorBytes(template, entry);
    if (bytes.length !== target.length) {
      const message = `${bytes.length} bytes were given for "${entry.name}", which holds ${target.length}`;
      throw new AggregationError('model_values_invalid', message, { tensor: entry.name });
    }
    out.set(bytes, target.byteOffset - template.bytes.byteOffset);
    const storage = template.archive.storages.get(entry.storageKey);
    if (storage !== undefined) {
      changed.add(storage);
    }
  });
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const storage of changed) {
    const { entry } = storage;
    patchCrc(view, entry, crc32(out.subarray(entry.dataOffset, entry.dataOffset + entry.size)));
  }
  return out;
}

/** Writes `crc` over every copy of the entry's old CRC-32 the template holds. */
function patchCrc(view: DataView, entry: ZipEntry, crc: number): void {
  view.setUint32(entry.centralHeaderOffset + 16, crc, true);
  // With a data descriptor (flag bit 3) a writer may leave the local header's CRC at zero; keep what it wrote then.
  if (view.getUint32(entry.localHeaderOffset + 14, true) === entry.crc32) {
    view.setUint32(entry.localHeaderOffset + 14, crc, true);
  }
  if ((entry.flags & 0x08) !== 0) {
    const at = entry.dataOffset + entry.compressedSize;
    const field = view.getUint32(at, true) === DATA_DESCRIPTOR ? at + 4 : at;
    if (field + 4 <= view.byteLength && view.getUint32(field, true) === entry.crc32) {
      view.setUint32(field, crc, true);
    }
  }
}

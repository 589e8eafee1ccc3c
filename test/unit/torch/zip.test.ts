import { readFileSync } from 'node:fs';
import { readTorchArchive } from '../../../src/torch/archive';
import { crc32 } from '../../../src/torch/crc32';
import { isTorchArchiveError } from '../../../src/torch/errors';
import { entryBytes, readZipDirectory } from '../../../src/torch/zip';
import { fixture } from '../aggregation/helpers/fixtures';
import { buildZip } from './zip-bytes';

const archive = (): Uint8Array => new Uint8Array(readFileSync(fixture('torch/mlp-global-r0.jit.pt')));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isTorchArchiveError(error)) {
      return error.code;
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the zip reader', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
  });

  it("lists PyTorch's entries: storages stored and 64-byte aligned, code deflated, every CRC matching", () => {
    const bytes = archive();
    const { entries } = readZipDirectory(bytes);
    const storages = entries.filter((entry) => entry.name.startsWith('archive/data/'));
    expect(storages.map((entry) => [entry.name, entry.method, entry.dataOffset % 64])).toEqual(
      ['0', '1', '2', '3'].map((key) => [`archive/data/${key}`, 0, 0]),
    );
    expect(entries.some((entry) => entry.method === 8)).toBe(true);
    for (const entry of entries) {
      expect(entryBytes(bytes, entry)).toHaveLength(entry.size);
    }
  });

  it('catches a flipped byte in a storage by its CRC-32', () => {
    const bytes = archive();
    const storage = readZipDirectory(bytes).entries.find((entry) => entry.name === 'archive/data/3');
    const at = (storage?.dataOffset ?? 0) + 5;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    expect(codeOf(() => readTorchArchive(bytes))).toBe('torch_zip_crc_mismatch');
    expect(() => readTorchArchive(bytes, { verifyCrc: false })).not.toThrow();
  });

  it('refuses a truncated zip', () => {
    const bytes = archive();
    expect(codeOf(() => readTorchArchive(bytes.subarray(0, bytes.length - 100)))).toBe('torch_zip_truncated');
    expect(codeOf(() => readTorchArchive(bytes.subarray(0, 1000)))).toBe('torch_zip_truncated');
  });

  it('refuses a directory that points past the data', () => {
    const bytes = archive();
    const { centralDirectoryOffset } = readZipDirectory(bytes);
    // The first record's local header offset, moved into the central directory.
    new DataView(bytes.buffer).setUint32(centralDirectoryOffset + 42, centralDirectoryOffset, true);
    expect(codeOf(() => readTorchArchive(bytes))).toBe('torch_zip_malformed');
  });

  it("refuses an entry whose data runs into the next entry's header", () => {
    const bytes = buildZip([
      { name: 'archive/a', data: new Uint8Array(8) },
      { name: 'archive/b', data: new Uint8Array(8) },
    ]);
    const { centralDirectoryOffset } = readZipDirectory(bytes);
    // The first record's sizes, grown by 8 bytes into the second entry's local header.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(centralDirectoryOffset + 20, 16, true);
    view.setUint32(centralDirectoryOffset + 24, 16, true);
    expect(codeOf(() => readZipDirectory(bytes))).toBe('torch_zip_malformed');
    expect(() => readZipDirectory(bytes)).toThrow(/archive\/a overlaps the entry archive\/b/);
  });

  it('refuses a file that is no zip', () => {
    expect(codeOf(() => readTorchArchive(Buffer.from('{"weights": []}')))).toBe('torch_not_zip');
  });
});

describe('zip64', () => {
  it('reads entries whose sizes and offsets are in zip64 fields, and their CRCs', () => {
    const files = [
      { name: 'archive/data.pkl', data: new Uint8Array([0x80, 0x02, 0x7d, 0x2e]) },
      { name: 'archive/data/0', data: new Uint8Array(64).fill(7) },
    ];
    const bytes = buildZip(files, true);
    const { entries } = readZipDirectory(bytes);
    expect(entries.map((entry) => [entry.name, entry.size])).toEqual([
      ['archive/data.pkl', 4],
      ['archive/data/0', 64],
    ]);
    expect(entries.map((entry) => entryBytes(bytes, entry))).toEqual(files.map((file) => file.data));
    expect(readTorchArchive(bytes)).toMatchObject({ kind: 'state_dict', manifest: [] });
  });
});

import { crc32 } from '../../../src/torch/crc32';

/** One file of a hand-built zip. */
export interface ZipFile {
  readonly name: string;
  readonly data: Uint8Array;
}

/**
 * A zip of stored `files`, for the reader's tests. With `zip64`, every entry defers its sizes and offset to a zip64
 * extra field and the end record defers to a zip64 end record, as writers do past 4 GiB.
 */
export function buildZip(files: readonly ZipFile[], zip64 = false): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const crc = crc32(file.data);
    const local = record(30, (view) => {
      view.setUint32(0, 0x04034b50, true);
      view.setUint16(4, zip64 ? 45 : 20, true);
      view.setUint32(14, crc, true);
      view.setUint32(18, file.data.length, true);
      view.setUint32(22, file.data.length, true);
      view.setUint16(26, name.length, true);
    });
    const extra = zip64
      ? record(28, (view) => {
          view.setUint16(0, 0x0001, true);
          view.setUint16(2, 24, true);
          view.setBigUint64(4, BigInt(file.data.length), true);
          view.setBigUint64(12, BigInt(file.data.length), true);
          view.setBigUint64(20, BigInt(offset), true);
        })
      : new Uint8Array(0);
    const wide = zip64 ? 0xffffffff : undefined;
    central.push(
      record(46, (view) => {
        view.setUint32(0, 0x02014b50, true);
        view.setUint32(16, crc, true);
        view.setUint32(20, wide ?? file.data.length, true);
        view.setUint32(24, wide ?? file.data.length, true);
        view.setUint16(28, name.length, true);
        view.setUint16(30, extra.length, true);
        view.setUint32(42, wide ?? offset, true);
      }),
      name,
      extra,
    );
    parts.push(local, name, file.data);
    offset += local.length + name.length + file.data.length;
  }
  const directory = Buffer.concat(central);
  const tail = zip64 ? zip64Tail(files.length, directory.length, offset) : [];
  const end = record(22, (view) => {
    view.setUint32(0, 0x06054b50, true);
    view.setUint16(8, zip64 ? 0xffff : files.length, true);
    view.setUint16(10, zip64 ? 0xffff : files.length, true);
    view.setUint32(12, zip64 ? 0xffffffff : directory.length, true);
    view.setUint32(16, zip64 ? 0xffffffff : offset, true);
  });
  return new Uint8Array(Buffer.concat([...parts, directory, ...tail, end]));
}

function zip64Tail(count: number, size: number, offset: number): Uint8Array[] {
  const record64 = record(56, (view) => {
    view.setUint32(0, 0x06064b50, true);
    view.setBigUint64(4, 44n, true);
    view.setBigUint64(24, BigInt(count), true);
    view.setBigUint64(32, BigInt(count), true);
    view.setBigUint64(40, BigInt(size), true);
    view.setBigUint64(48, BigInt(offset), true);
  });
  const locator = record(20, (view) => {
    view.setUint32(0, 0x07064b50, true);
    view.setBigUint64(8, BigInt(offset + size), true);
    view.setUint32(16, 1, true);
  });
  return [record64, locator];
}

function record(length: number, fill: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(length);
  fill(new DataView(bytes.buffer));
  return bytes;
}

import { isAppError } from '../../../../src/errors';

/** What a refused input looks like to a client: status, code, `details.reason` and message; or 'accepted'. */
export function refusal(
  run: () => unknown,
): { status: number; code: string; reason: unknown; message: string } | string {
  try {
    run();
  } catch (err) {
    if (!isAppError(err)) {
      return `not an AppError: ${String(err)}`;
    }
    const details = err.details as { reason?: unknown } | undefined;
    return { status: err.status, code: err.code, reason: details?.reason, message: err.message };
  }
  return 'accepted';
}

/** Builds a NumPy .npy file the way `numpy.save` lays it out: magic, version, header length, padded dict, data. */
export function npy(
  descr: string,
  shape: readonly number[],
  payload: Uint8Array,
  options: { version?: 1 | 2 | 3; fortranOrder?: boolean; header?: string } = {},
): Uint8Array {
  const version = options.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict =
    options.header ??
    `{'descr': '${descr}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = Buffer.from(`${dict.padEnd(total - prefix - 1, ' ')}\n`, 'latin1');
  const lead = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(lead);
  if (version === 1) {
    lead.writeUInt16LE(header.length, 8);
  } else {
    lead.writeUInt32LE(header.length, 8);
  }
  return Buffer.concat([lead, header, payload]);
}

/** The bytes of a typed array, as a file would hold them (little-endian on the machines we run on). */
export function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A safetensors file with one hand-written header entry, for dtypes `writeSafetensors` does not write. */
export function safetensorsOf(name: string, dtype: string, shape: readonly number[], payload: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify({ [name]: { dtype, shape, data_offsets: [0, payload.length] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, payload]);
}

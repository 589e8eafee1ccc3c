import { createHash } from 'node:crypto';
import { Reader } from 'protobufjs/minimal';
import { dtypeBytes, TensorField, WireType } from './schema';
import type { TensorRecord } from './tensor-record';

/**
 * SHA-256 (hex) of a non-float initializer's values in canonical form: the little-endian raw bytes, whether the
 * tensor stores them in raw_data or in int32_data / int64_data / uint64_data, so a shape constant compares equal
 * across exporters that pick different storage. Other typed storage (strings) is hashed as its field bytes.
 */
export function valueDigest(tensor: TensorRecord): string {
  const hash = createHash('sha256');
  const width = dtypeBytes(tensor.dataType);
  for (const span of tensor.valueFields) {
    const bytes = tensor.payload.subarray(span.start, span.end);
    if (span.field === TensorField.RAW_DATA && tensor.rawData !== undefined) {
      hash.update(tensor.payload.subarray(tensor.rawData.start, tensor.rawData.end));
    } else if (width !== undefined && isIntegerField(span.field)) {
      hash.update(canonicalIntegers(bytes, span.field, span.wireType, width));
    } else {
      hash.update(bytes);
    }
  }
  return hash.digest('hex');
}

function isIntegerField(field: number): boolean {
  return field === TensorField.INT32_DATA || field === TensorField.INT64_DATA || field === TensorField.UINT64_DATA;
}

/** Varint-encoded integers (one field, packed or not) as `width`-byte little-endian two's-complement values. */
function canonicalIntegers(field: Uint8Array, fieldNumber: number, wireType: number, width: number): Uint8Array {
  const reader = Reader.create(field);
  reader.uint32();
  const end = wireType === WireType.LEN ? reader.uint32() + reader.pos : reader.len;
  const out: number[] = [];
  while (reader.pos < end) {
    const { low, high } = fieldNumber === TensorField.INT32_DATA ? { low: reader.int32(), high: 0 } : reader.int64();
    for (let i = 0; i < width; i++) {
      out.push(i < 4 ? (low >>> (8 * i)) & 0xff : (high >>> (8 * (i - 4))) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

import { Reader } from 'protobufjs/minimal';
import { malformed } from '../aggregation/errors';
import { TensorField, TYPED_VALUE_FIELDS, WireType } from './schema';
import type { ElidedValues } from './walk';

/** A byte range [start, end) inside a TensorProto payload. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A value field's span, tag included, with its field number and wire type. */
export type ValueField = Span & { readonly field: number; readonly wireType: number };

/** One decoded TensorProto: its metadata plus where its values sit in the buffered payload (no values copied). */
export interface TensorRecord {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly elementCount: number;
  /** The TensorProto bytes; spans below index into it. */
  readonly payload: Uint8Array;
  /** The `raw_data` bytes, when the tensor stores its values there. */
  readonly rawData?: Span;
  /** Every value field (raw_data or typed), tag included, in payload order. */
  readonly valueFields: readonly ValueField[];
  /** Where an external tensor claims its data is (data_location EXTERNAL or external_data entries). */
  readonly externalLocation?: string;
  /**
   * Set when a walk by position skipped the raw_data bytes: they are not in `payload` (whose `rawData` span then
   * runs past it) but at byte `position` of the model.
   */
  readonly elided?: { readonly position: number; readonly length: number };
}

/**
 * Decodes a TensorProto with protobufjs' reader; values stay in place as spans. With `elided`, the raw_data bytes
 * the walk skipped are missing at index `elided.at` of the payload.
 */
export function decodeTensorRecord(payload: Uint8Array, index: number, elided?: ElidedValues): TensorRecord {
  const reader = Reader.create(payload);
  const dims: number[] = [];
  const valueFields: (Span & { field: number; wireType: number })[] = [];
  let name = '';
  let dataType = 0;
  let rawData: Span | undefined;
  let external: string | undefined;
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === TensorField.DIMS) {
        readDims(reader, wireType, dims);
      } else if (field === TensorField.DATA_TYPE && wireType === WireType.VARINT) {
        dataType = reader.int32();
      } else if (field === TensorField.NAME && wireType === WireType.LEN) {
        name = reader.string();
      } else if (field === TensorField.RAW_DATA && wireType === WireType.LEN) {
        if (rawData !== undefined) {
          // Protobuf would keep the last; a reader by position sees the first. No exporter writes two.
          throw new Error('raw_data appears twice');
        }
        const length = reader.uint32();
        rawData = { start: reader.pos, end: reader.pos + length };
        valueFields.push({ start, end: reader.pos + length, field, wireType });
        if (elided?.at !== reader.pos) {
          reader.skip(length);
        }
      } else if (field === TensorField.EXTERNAL_DATA && wireType === WireType.LEN) {
        external = readExternalLocation(reader.bytes()) ?? external ?? '(no location)';
      } else if (field === TensorField.DATA_LOCATION && wireType === WireType.VARINT) {
        external = reader.int32() === 1 ? (external ?? '(no location)') : external;
      } else {
        reader.skipType(wireType);
        if (TYPED_VALUE_FIELDS.has(field)) {
          valueFields.push({ start, end: reader.pos, field, wireType });
        }
      }
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw malformed(`initializer ${index} (${name === '' ? 'unnamed' : `"${name}"`}) does not decode: ${reason}`, {
      tensor: name,
    });
  }
  return {
    name,
    dataType,
    dims,
    elementCount: countElements(dims, name),
    payload,
    rawData,
    valueFields,
    externalLocation: external,
    ...(elided ? { elided: { position: elided.position, length: elided.length } } : {}),
  };
}

function readDims(reader: Reader, wireType: number, dims: number[]): void {
  if (wireType === WireType.LEN) {
    const end = reader.uint32() + reader.pos;
    while (reader.pos < end) {
      dims.push(readDim(reader));
    }
    return;
  }
  if (wireType !== WireType.VARINT) {
    throw new Error(`dims has wire type ${wireType}`);
  }
  dims.push(readDim(reader));
}

function readDim(reader: Reader): number {
  // protobufjs types int64 as a bare { low, high } pair; combine it without needing long.js' methods.
  const long = reader.int64();
  const dim = long.high * 2 ** 32 + (long.low >>> 0);
  if (dim < 0 || !Number.isSafeInteger(dim)) {
    throw new Error(`dimension ${dim} is not a valid size`);
  }
  return dim;
}

function readExternalLocation(entry: Uint8Array): string | undefined {
  const reader = Reader.create(entry);
  let key = '';
  let value = '';
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 10) {
      key = reader.string();
    } else if (tag === 18) {
      value = reader.string();
    } else {
      reader.skipType(tag & 7);
    }
  }
  return key === 'location' ? value : undefined;
}

function countElements(dims: readonly number[], name: string): number {
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (!Number.isSafeInteger(count)) {
    throw malformed(`initializer "${name}" has shape [${dims.join(', ')}], too many elements`, { tensor: name });
  }
  return count;
}

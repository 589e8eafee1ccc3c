import { Reader } from 'protobufjs/minimal';
import { dtypeName } from './schema';

/** A graph input or output: its name, element type and shape (numbers, symbolic names, or null when unknown). */
export interface ValueInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: Array<number | string | null>;
}

/**
 * Decodes an ONNX ValueInfoProto (name 1, type 2 -> TypeProto.tensor_type 1 -> elem_type 1, shape 2 -> dim 1 ->
 * dim_value 1 | dim_param 2). Other kinds of types (sequences, maps) keep an empty shape and dtype `unknown`.
 */
export function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  let name = '';
  let dtype = 'unknown';
  let shape: Array<number | string | null> = [];
  forEachField(bytes, (field, reader) => {
    if (field === 1) {
      name = reader.string();
      return true;
    }
    if (field !== 2) {
      return false;
    }
    forEachField(reader.bytes(), (typeField, typeReader) => {
      if (typeField !== 1) {
        return false;
      }
      forEachField(typeReader.bytes(), (tensorField, tensorReader) => {
        if (tensorField === 1) {
          dtype = dtypeName(tensorReader.int32());
          return true;
        }
        if (tensorField === 2) {
          shape = decodeShape(tensorReader.bytes());
          return true;
        }
        return false;
      });
      return true;
    });
    return true;
  });
  return { name, dtype, shape };
}

function decodeShape(bytes: Uint8Array): Array<number | string | null> {
  const dims: Array<number | string | null> = [];
  forEachField(bytes, (field, reader) => {
    if (field !== 1) {
      return false;
    }
    let dim: number | string | null = null;
    forEachField(reader.bytes(), (dimField, dimReader) => {
      if (dimField === 1) {
        dim = Number(dimReader.int64());
        return true;
      }
      if (dimField === 2) {
        dim = dimReader.string();
        return true;
      }
      return false;
    });
    dims.push(dim);
    return true;
  });
  return dims;
}

/** Calls `visit` per field; when it returns false the field is skipped. */
function forEachField(bytes: Uint8Array, visit: (field: number, reader: Reader) => boolean): void {
  const reader = Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (!visit(tag >>> 3, reader)) {
      reader.skipType(tag & 7);
    }
  }
}

import { AggregationError } from '../aggregation/errors';
import { parseSafetensorsHeader, type SafetensorEntry, safetensorsHeaderLength } from '../aggregation/safetensors';
import { notFound } from '../errors';
import { ELEMENT_BYTES, toFloat32, toFloat64 } from '../inference/input/element-types';
import type { BlobStore } from '../storage/blob-store';
import { type DatasetDtype, dtypeOfSafetensors, elementType } from './dtypes';

/** One tensor of a dataset: its dtype (`float32`, `int64`, ...) and the shape of one row (the shape without rows). */
export interface DatasetTensorInfo {
  readonly dtype: string;
  readonly rowShape: number[];
}

/** Rows of a stored dataset, read a few at a time. */
export interface DatasetReader {
  readonly rows: number;
  readonly x: DatasetTensorInfo;
  readonly y: DatasetTensorInfo;
  /**
   * Rows [start, start + count) of `x` or `y`, flattened row-major and converted to float64 (64-bit integers exactly
   * where |v| < 2^53). Reads only those rows' bytes of the blob.
   * @throws RangeError when the rows are not within the dataset.
   */
  readRows(tensor: 'x' | 'y', start: number, count: number): Promise<Float64Array>;
  /**
   * The same rows as float32, what a model takes: float32 data is copied once as it lies in the blob, other dtypes
   * are cast (integers beyond 2^24 and float64 values lose precision, as any cast to float32 does).
   */
  readRowsFloat32(tensor: 'x' | 'y', start: number, count: number): Promise<Float32Array>;
}

/** Whether this machine stores numbers little-endian, as safetensors files do (then float32 rows need no decoding). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where one tensor's rows lie in the blob. */
interface StoredTensor extends DatasetTensorInfo {
  readonly dtype: DatasetDtype;
  /** Blob offset of the first row. */
  readonly offset: number;
  readonly rowElements: number;
  readonly rowBytes: number;
}

/**
 * Opens a dataset blob (one safetensors file holding `x` and `y`, as uploads are stored) by reading its header only.
 * @throws AppError not_found when the blob is absent; AggregationError `safetensors_malformed` when it is not a
 *   dataset file.
 */
export async function openDataset(blobs: BlobStore, digest: string): Promise<DatasetReader> {
  const blob = await blobs.stat(digest);
  if (!blob) {
    throw notFound(`Blob ${digest} not found.`);
  }
  const headerLength = safetensorsHeaderLength(await blobs.readRange(digest, 0, 8), blob.size);
  const dataStart = 8 + headerLength;
  const { entries } = parseSafetensorsHeader(await blobs.readRange(digest, 8, headerLength), blob.size - dataStart);
  const x = storedTensor('x', entries.get('x'), dataStart);
  const y = storedTensor('y', entries.get('y'), dataStart);
  const rows = x.rows;
  if (y.rows !== rows) {
    throw corrupt(`x has ${rows} rows and y ${y.rows}`);
  }
  const tensors = { x: x.tensor, y: y.tensor };
  /** The bytes of rows [start, start + count) of a tensor, read by range. */
  const rowBytes = async (name: 'x' | 'y', start: number, count: number): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0) {
      throw new RangeError(`rows [${start}, ${start} + ${count}) are not a range of rows`);
    }
    if (start + count > rows) {
      throw new RangeError(`rows [${start}, ${start + count}) are beyond the dataset's ${rows} rows`);
    }
    const tensor = tensors[name];
    const length = count * tensor.rowBytes;
    const bytes = await blobs.readRange(digest, tensor.offset + start * tensor.rowBytes, length);
    if (bytes.length !== length) {
      throw corrupt(`the blob ends inside rows [${start}, ${start + count}) of ${name}`);
    }
    return bytes;
  };
  return {
    rows,
    x: { dtype: x.tensor.dtype, rowShape: [...x.tensor.rowShape] },
    y: { dtype: y.tensor.dtype, rowShape: [...y.tensor.rowShape] },
    readRows: async (name, start, count) =>
      toFloat64(
        await rowBytes(name, start, count),
        elementType(tensors[name].dtype),
        true,
        count * tensors[name].rowElements,
      ),
    readRowsFloat32: async (name, start, count) => {
      const bytes = await rowBytes(name, start, count);
      const type = elementType(tensors[name].dtype);
      return type === 'f4' && LITTLE_ENDIAN_HOST
        ? new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
        : toFloat32(bytes, type, true, count * tensors[name].rowElements);
    },
  };
}

function storedTensor(
  name: string,
  entry: SafetensorEntry | undefined,
  dataStart: number,
): { rows: number; tensor: StoredTensor } {
  const dtype = entry && dtypeOfSafetensors(entry.dtype);
  const [rows, ...rowShape] = entry?.shape ?? [];
  if (!entry || !dtype || rows === undefined) {
    throw corrupt(`it has no tensor ${name} of a dataset dtype with rows`);
  }
  const rowElements = rowShape.reduce((a, b) => a * b, 1);
  const rowBytes = rowElements * ELEMENT_BYTES[elementType(dtype)];
  return { rows, tensor: { dtype, rowShape, offset: dataStart + entry.begin, rowElements, rowBytes } };
}

function corrupt(problem: string): AggregationError {
  return new AggregationError('safetensors_malformed', `invalid dataset file: ${problem}`);
}

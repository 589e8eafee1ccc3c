import { isAggregationError } from '../aggregation/errors';
import { type RawSafetensor, readSafetensorsRaw } from '../aggregation/safetensors';
import { datasetRefusal } from '../errors';
import { npyData, npyLittleEndianRowMajor, readNpyHeader } from '../inference/input/npy';
import type { DatasetTensor, DatasetTensors } from './dataset-tensors';
import { dtypeOfElement, dtypeOfSafetensors, SUPPORTED_DTYPES } from './dtypes';

const TENSORS = ['x', 'y'] as const;

/**
 * Reads an uploaded safetensors file that holds exactly the tensors `x` and `y` (any `__metadata__` is dropped).
 * @throws 400 `dataset_malformed` for a file that does not parse or holds other tensors, `dataset_dtype` for a dtype
 *   a dataset cannot have.
 */
export function datasetFromSafetensors(bytes: Uint8Array): DatasetTensors {
  const tensors = readTensors(bytes);
  const others = [...tensors.keys()].filter((name) => name !== 'x' && name !== 'y');
  const missing = TENSORS.filter((name) => !tensors.has(name));
  if (others.length > 0 || missing.length > 0) {
    const held = [...tensors.keys()].map((name) => JSON.stringify(name)).join(', ') || 'none';
    throw datasetRefusal(
      'dataset_malformed',
      `File 'file' holds the tensors ${held}; a dataset file holds exactly "x" and "y"` +
        (missing.length > 0 ? ` (missing: ${missing.join(', ')}).` : '.'),
    );
  }
  const tensor = (name: 'x' | 'y'): DatasetTensor => fromSafetensor(name, tensors.get(name));
  return { x: tensor('x'), y: tensor('y') };
}

/**
 * Reads the uploaded .npy files `x` and `y` (either byte order, C or Fortran order) into stored form.
 * @throws 400 `npy_malformed` or `npy_dtype` for a file that does not parse, `dataset_dtype` for a dtype a dataset
 *   cannot have.
 */
export function datasetFromNpy(x: Uint8Array, y: Uint8Array): DatasetTensors {
  return { x: fromNpy('x', x), y: fromNpy('y', y) };
}

function readTensors(bytes: Uint8Array): Map<string, RawSafetensor> {
  try {
    return readSafetensorsRaw(bytes).tensors;
  } catch (err) {
    if (isAggregationError(err)) {
      throw datasetRefusal('dataset_malformed', `File 'file' is not a valid safetensors file: ${err.message}.`);
    }
    throw err;
  }
}

function fromSafetensor(name: string, tensor: RawSafetensor | undefined): DatasetTensor {
  const dtype = tensor && dtypeOfSafetensors(tensor.dtype);
  if (!tensor || !dtype) {
    throw unsupportedDtype(name, tensor?.dtype ?? 'none');
  }
  return { dtype, shape: [...tensor.shape], bytes: tensor.bytes };
}

function fromNpy(name: 'x' | 'y', bytes: Uint8Array): DatasetTensor {
  const subject = { name: `Dataset file '${name}'`, supported: SUPPORTED_DTYPES };
  const { header, dataStart } = readNpyHeader(bytes, subject);
  const dtype = dtypeOfElement(header.type);
  if (!dtype) {
    throw unsupportedDtype(name, header.descr);
  }
  const elements = header.dims.reduce((a, b) => a * b, 1);
  const data = npyData(bytes, dataStart, header, elements, subject);
  return { dtype, shape: header.dims, bytes: npyLittleEndianRowMajor(data, header) };
}

function unsupportedDtype(name: string, dtype: string): ReturnType<typeof datasetRefusal> {
  return datasetRefusal('dataset_dtype', `${name} has dtype ${dtype}; supported are ${SUPPORTED_DTYPES}.`);
}

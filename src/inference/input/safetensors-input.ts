import { isAggregationError } from '../../aggregation/errors';
import { type RawSafetensor, readSafetensorsRaw } from '../../aggregation/safetensors';
import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import type { ElementType } from './element-types';
import { toFloat32 } from './element-types';
import { checkDims, checkFinite, type InputLimits } from './input-limits';

const SAFETENSORS_TYPES: Readonly<Record<string, ElementType>> = {
  F64: 'f8',
  F32: 'f4',
  F16: 'f2',
  BF16: 'bf16',
  I64: 'i8',
  I32: 'i4',
  I16: 'i2',
  I8: 'i1',
  U8: 'u1',
  BOOL: 'b1',
};

/**
 * Reads a safetensors file holding exactly one tensor of a float, integer or bool dtype into a float32 tensor.
 * @throws 400 for a malformed file, more or fewer than one tensor (the names are listed), or an unsupported dtype.
 */
export function decodeSafetensorsInput(bytes: Uint8Array, limits: InputLimits): FloatTensor {
  const tensors = readTensors(bytes);
  const [only, ...others] = tensors.entries();
  if (only === undefined || others.length > 0) {
    const names = [...tensors.keys()].map((name) => JSON.stringify(name)).join(', ');
    throw inputError(
      'safetensors_malformed',
      `Model input safetensors file holds ${tensors.size} tensors (${names || 'none'}); send exactly one.`,
    );
  }
  const [name, tensor] = only;
  const type = SAFETENSORS_TYPES[tensor.dtype];
  if (type === undefined) {
    throw inputError(
      'safetensors_malformed',
      `Model input tensor "${name}" has dtype ${tensor.dtype}; supported are ${Object.keys(SAFETENSORS_TYPES).join(', ')}.`,
    );
  }
  const elements = checkDims(tensor.shape, limits);
  const data = toFloat32(tensor.bytes, type, true, elements);
  checkFinite(data);
  return { dims: [...tensor.shape], data };
}

function readTensors(bytes: Uint8Array): Map<string, RawSafetensor> {
  try {
    return readSafetensorsRaw(bytes).tensors;
  } catch (err) {
    if (isAggregationError(err)) {
      throw inputError('safetensors_malformed', `Model input is not a valid safetensors file: ${err.message}.`);
    }
    throw err;
  }
}

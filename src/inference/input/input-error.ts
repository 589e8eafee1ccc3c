import { type AppError, invalidInput } from '../../errors';

/** Why a model input was refused; sent as `details.reason` beside the message so clients can branch on it. */
export type InputErrorReason =
  | 'missing'
  | 'not_rectangular'
  | 'not_numeric'
  | 'empty'
  | 'too_large'
  | 'bad_rank'
  | 'bad_json'
  | 'bad_base64'
  | 'byte_count'
  | 'shape_required'
  | 'bad_shape'
  | 'unknown_format'
  | 'npy_malformed'
  | 'npy_dtype'
  | 'safetensors_malformed'
  | 'image_corrupt'
  | 'shape_mismatch';

/** The 400 thrown for an input the client must fix; `message` says what is wrong. */
export function inputError(reason: InputErrorReason, message: string, details: Record<string, unknown> = {}): AppError {
  return invalidInput(message, { reason, ...details });
}

/** The reference server's wording for an absent or empty `model_input`, kept so its clients recognise it. */
export const NO_MODEL_INPUT = "No uploaded file 'model_input' found.";

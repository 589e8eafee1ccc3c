import { inputError } from '../../errors';
import type { FloatTensor } from '../tensor';

/** The reference server's message for a shape mismatch; a second sentence adds both shapes. */
export const SHAPE_MISMATCH = 'Input shape does not match model input shape.';

/**
 * Checks a decoded input against the model's `input_shape`: the rank must match (the reference compared only up to
 * the shorter rank) and every non-null dimension must be equal. A null `inputShape` (unknown) accepts any input.
 * @throws 400 naming the expected and the actual shape.
 */
export function checkInputShape(tensor: FloatTensor, inputShape: readonly (number | null)[] | null): void {
  if (inputShape === null) {
    return;
  }
  const fits =
    inputShape.length === tensor.dims.length && inputShape.every((dim, i) => dim === null || dim === tensor.dims[i]);
  if (!fits) {
    throw inputError(
      'shape_mismatch',
      `${SHAPE_MISMATCH} Expected [${inputShape.map(String).join(', ')}], got [${tensor.dims.join(', ')}].`,
      { expected: inputShape, got: tensor.dims },
    );
  }
}

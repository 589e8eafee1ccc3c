import { AppError } from '../../errors';

/** The reference's generic 403 text (DRF's). */
export const NO_PERMISSION = 'You do not have permission to perform this action.';

/** 403 in the reference's words: the caller is related to the resource but may not do this. */
export function forbidden(message: string = NO_PERMISSION): AppError {
  return new AppError({ code: 'permission_denied', status: 403, message });
}

import type { TorchErrorCode } from '../error-reasons';

/** How a refused PyTorch file should be saved instead: the two forms Roundhouse reads without running anything. */
export const HOW_TO_SAVE =
  'Save the model with torch.jit.save(torch.jit.script(model)), or its weights with torch.save(model.state_dict()).';

/** What an error points at: the zip entry or the tensor to look at. */
export interface TorchErrorSubject {
  readonly entry?: string;
  readonly tensor?: string;
}

/**
 * A refused PyTorch archive, thrown by the zip reader, the pickle scanner and the archive reader. Callers match on
 * `code` (see `isTorchArchiveError`), never on `instanceof` alone.
 */
export class TorchArchiveError extends Error {
  override readonly name = 'TorchArchiveError';
  readonly code: TorchErrorCode;
  readonly entry?: string;
  readonly tensor?: string;

  constructor(code: TorchErrorCode, message: string, subject: TorchErrorSubject = {}) {
    super(message);
    this.code = code;
    this.entry = subject.entry;
    this.tensor = subject.tensor;
  }
}

/** True for a `TorchArchiveError`, also across realms (jest, worker sandboxes), by its name and code. */
export function isTorchArchiveError(value: unknown): value is TorchArchiveError {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  return 'name' in value && value.name === 'TorchArchiveError' && 'code' in value && typeof value.code === 'string';
}

/** Thrown when a file is refused for what it is (not for a defect): the message ends with how to save instead. */
export function refusedFile(code: TorchErrorCode, why: string, subject: TorchErrorSubject = {}): TorchArchiveError {
  return new TorchArchiveError(code, `${why} ${HOW_TO_SAVE}`, subject);
}

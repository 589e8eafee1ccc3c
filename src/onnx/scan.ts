import type { TensorInfo } from './manifest';
import { ModelScanner } from './scanner';
import type { ModelSummary } from './summary';
import { walkModel } from './reader';
import type { TensorRecord } from './tensor-record';

/** Options of `scanModel`. */
export interface ScanOptions {
  /** The global model's summary: the scan then throws at the first structural or manifest difference. */
  readonly expected?: ModelSummary;
  /** Sees each decoded initializer (checks, folding); the record's payload is only valid during the call. */
  readonly onTensor?: (record: TensorRecord, info: TensorInfo) => void | Promise<void>;
}

/** Reads a model once, one field at a time, and summarizes it. Throws `AggregationError` on the first problem. */
export async function scanModel(chunks: AsyncIterable<Uint8Array>, options: ScanOptions = {}): Promise<ModelSummary> {
  const scanner = new ModelScanner(options.expected);
  // The scan is done with each event before it asks for the next, so the walker may reuse its buffers.
  for await (const event of walkModel(chunks, true)) {
    const tensor = scanner.accept(event);
    if (tensor !== undefined) {
      await options.onTensor?.(tensor.record, tensor.info);
    }
  }
  return scanner.finish();
}

import { AggregationError, isAggregationError } from '../aggregation/errors';
import { findNonFinite } from '../onnx/float/encoding';
import type { TensorInfo } from '../onnx/manifest';
import type { ModelSummary } from '../onnx/summary';
import type { TensorRecord } from '../onnx/tensor-record';
import { readFloatValues } from '../onnx/float/tensor-values';
import { scanModel } from './scan';

/** The outcome of an upload check: the model's summary, or the first problem found. */
export type CheckResult =
  { readonly ok: true; readonly summary: ModelSummary } | { readonly ok: false; readonly error: AggregationError };

/**
 * Upload check of a global model: it parses, keeps no data in external files, and its float initializers hold no
 * NaN or Inf. Problems come back as values; only I/O failures of the stream itself are thrown.
 */
export async function checkModel(chunks: AsyncIterable<Uint8Array>): Promise<CheckResult> {
  return runCheck(() => scanModel(chunks, { onTensor: checkTensor }));
}

/**
 * Upload check of a local update against its global model: `checkModel`'s checks, plus the same graph (digest)
 * and an identical manifest, and non-float initializers equal to the global model's.
 */
export async function checkUpdate(chunks: AsyncIterable<Uint8Array>, global: ModelSummary): Promise<CheckResult> {
  return runCheck(async () => {
    const summary = await scanModel(chunks, { expected: global, onTensor: checkTensor });
    if (summary.graphDigest !== global.graphDigest) {
      throw new AggregationError('model_graph_mismatch', "the update's graph digest differs from the global model's");
    }
    return summary;
  });
}

/** Refuses external data and non-finite float values in one initializer. */
export function checkTensor(record: TensorRecord, info: TensorInfo): void {
  checkStorage(record, info);
  if (!info.isFloat) {
    return;
  }
  const values = readFloatValues(record);
  const bad = findNonFinite(values);
  if (bad >= 0) {
    throw new AggregationError(
      'model_non_finite',
      `initializer "${info.name}" holds ${String(values[bad])} at element ${bad}; weights must be finite`,
      { tensor: info.name },
    );
  }
}

/** Refuses an initializer that keeps its data in an external file (it would make the server read its own files). */
export function checkStorage(record: TensorRecord, info: TensorInfo): void {
  if (record.externalLocation !== undefined) {
    throw new AggregationError(
      'model_external_data',
      `initializer "${info.name}" keeps its data in an external file (${record.externalLocation}); export with external_data=False`,
      { tensor: info.name },
    );
  }
}

async function runCheck(scan: () => Promise<ModelSummary>): Promise<CheckResult> {
  try {
    return { ok: true, summary: await scan() };
  } catch (error) {
    if (isAggregationError(error)) {
      return { ok: false, error };
    }
    throw error;
  }
}

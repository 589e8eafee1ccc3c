import { scanModel } from '../models/scan';
import { openSource } from '../onnx/model-source';
import type { ModelSummary } from '../onnx/summary';
import type { TensorRecord } from '../onnx/tensor-record';
import { rawFloat32Bytes, readFloatValues } from '../onnx/float/tensor-values';
import { FloatScratch } from '../onnx/float/scratch';
import type { AggregatedTensors, ClientUpdate } from './strategies/strategy';
import { isAggregationError } from './errors';

/**
 * The sample-size-weighted mean of the updates' float initializers, folded in one update at a time and one tensor
 * at a time into float64 sums, so memory is the accumulator plus one tensor whatever the number of clients. Each
 * update is checked against the global model as it streams (graph, manifest, non-float values); the updates are
 * folded in the order given, which the engine fixes by client id so the result is the same bit for bit.
 */
export async function foldWeightedMean(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
): Promise<AggregatedTensors> {
  const sums: AggregatedTensors = new Map();
  for (const info of global.manifest) {
    if (info.isFloat) {
      sums.set(info.name, new Float64Array(info.elementCount));
    }
  }
  const total = updates.reduce((sum, update) => sum + update.sampleSize, 0);
  const scratch = new FloatScratch();
  for (const update of updates) {
    // n_i / Σn, not n_i then a final division: scaling every sample size by k then gives the same bits.
    const weight = update.sampleSize / total;
    try {
      await scanModel(openSource(update.source), {
        expected: global,
        onTensor: (record, info) => {
          const sum = sums.get(info.name);
          if (sum !== undefined) {
            foldTensor(sum, record, weight, scratch);
          }
        },
      });
    } catch (error) {
      throw isAggregationError(error) ? error.forClient(update.clientId) : error;
    }
  }
  return sums;
}

/** sum += weight · values of one tensor. float32 raw_data (what exporters write) is read in place, not copied. */
function foldTensor(sum: Float64Array, record: TensorRecord, weight: number, scratch: FloatScratch): void {
  const raw = rawFloat32Bytes(record);
  if (raw === undefined) {
    const values = readFloatValues(record, scratch);
    if (values instanceof Float32Array) {
      addScaled32(sum, values, weight);
    } else {
      addScaled64(sum, values, weight);
    }
  } else if (raw.byteOffset % 4 === 0) {
    addScaled32(sum, new Float32Array(raw.buffer, raw.byteOffset, sum.length), weight);
  } else {
    addScaledBytes(sum, new DataView(raw.buffer, raw.byteOffset, raw.byteLength), weight);
  }
}

// Monomorphic loops, one per source type: a single polymorphic loop runs several times slower in V8.
function addScaled32(sum: Float64Array, values: Float32Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

function addScaled64(sum: Float64Array, values: Float64Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

/** Unaligned raw_data (it usually starts at an odd offset in the TensorProto): DataView reads as fast as a copy. */
function addScaledBytes(sum: Float64Array, values: DataView, weight: number): void {
  for (let i = 0; i < sum.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * values.getFloat32(4 * i, true);
  }
}

import { bytesSource, openSource } from '../../../../src/onnx/model-source';
import { scanModel } from '../../../../src/models/scan';
import { readFloatValues } from '../../../../src/onnx/float/tensor-values';
import { tinyModel } from '../../../fixtures/onnx-edge-cases';

/** A one-tensor float64 model (y = x + w) holding `values`: the golden vectors' precision, end to end. */
export function float64Model(values: readonly number[]): Buffer {
  return tinyModel({ kind: 'values', values }, 'float64');
}

/** The values of a one-tensor model's float initializer. */
export async function weightsOf(bytes: Uint8Array): Promise<number[]> {
  let values: number[] = [];
  await scanModel(openSource(bytesSource(bytes)), {
    onTensor: (record) => {
      values = [...readFloatValues(record)];
    },
  });
  return values;
}

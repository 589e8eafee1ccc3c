import { readFileSync } from 'node:fs';
import * as protobuf from 'protobufjs';
import { z } from 'zod';

/**
 * An independent ONNX initializer decoder for the tests: protobufjs reflection over a schema subset written here,
 * decoding the whole model at once. It shares no code with the engine's streaming reader.
 */
const SCHEMA = `
syntax = "proto2";
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
}
message GraphProto { repeated TensorProto initializer = 5; }
message ModelProto { optional GraphProto graph = 7; }
`;

const modelType = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('ModelProto');

const tensorSchema = z.object({
  name: z.string(),
  dims: z.array(z.number()).default([]),
  data_type: z.number(),
  raw_data: z.instanceof(Uint8Array).optional(),
  float_data: z.array(z.number()).optional(),
  double_data: z.array(z.number()).optional(),
});
const modelSchema = z.object({ graph: z.object({ initializer: z.array(tensorSchema).default([]) }) });

/** A decoded float32/float64 initializer, widened to float64. */
export interface ReferenceTensor {
  readonly dims: number[];
  readonly dataType: number;
  readonly values: Float64Array;
}

/** The float32 and float64 initializers of a model, by name, in graph order. */
export function decodeReference(bytes: Uint8Array): Map<string, ReferenceTensor> {
  const object = modelType.toObject(modelType.decode(bytes), { longs: Number, arrays: true });
  const model = modelSchema.parse(object);
  const out = new Map<string, ReferenceTensor>();
  for (const tensor of model.graph.initializer) {
    const values = tensorValues(tensor);
    if (values !== undefined) {
      out.set(tensor.name, { dims: tensor.dims, dataType: tensor.data_type, values });
    }
  }
  return out;
}

/** `decodeReference` of a file. */
export function decodeReferenceFile(path: string): Map<string, ReferenceTensor> {
  return decodeReference(readFileSync(path));
}

function tensorValues(tensor: z.infer<typeof tensorSchema>): Float64Array | undefined {
  const raw = tensor.raw_data;
  if (tensor.data_type === 1) {
    return raw === undefined
      ? Float64Array.from(tensor.float_data ?? [])
      : Float64Array.from(new Float32Array(new Uint8Array(raw).buffer));
  }
  if (tensor.data_type === 11) {
    return raw === undefined
      ? Float64Array.from(tensor.double_data ?? [])
      : new Float64Array(new Uint8Array(raw).buffer);
  }
  return undefined;
}

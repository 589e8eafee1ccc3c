"""Shared by the Python folds of `npm run bench:compare`: the command line and writing the result."""

import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def parse_args(argv):
    """`--out RESULT GLOBAL PATH:SAMPLES ...`, the form of `roundhouse aggregate`."""
    if len(argv) < 4 or argv[0] != "--out":
        sys.exit(f"usage: {sys.argv[0]} --out RESULT GLOBAL PATH:SAMPLES ...")
    updates = []
    for spec in argv[3:]:
        path, samples = spec.rsplit(":", 1)
        updates.append((path, int(samples)))
    return argv[1], argv[2], updates


def is_float(tensor):
    return tensor.data_type in (
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.FLOAT16,
        onnx.TensorProto.BFLOAT16,
    )


def write_result(global_path, arrays, out):
    """Writes `arrays` (name -> ndarray) into the global model, each cast to its initializer's dtype."""
    model = onnx.load(global_path)
    for tensor in model.graph.initializer:
        values = arrays.get(tensor.name)
        if values is not None:
            dtype = helper.tensor_dtype_to_np_dtype(tensor.data_type)
            tensor.CopyFrom(numpy_helper.from_array(np.asarray(values).astype(dtype), tensor.name))
    onnx.save(model, out)

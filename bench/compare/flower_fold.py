"""FedAvg by Flower's own `aggregate`, fed as a Flower server feeds it: every update's arrays in memory at once.

python flower_fold.py --out RESULT GLOBAL PATH:SAMPLES ...
"""

import sys

import onnx
from flwr.server.strategy.aggregate import aggregate
from onnx import numpy_helper

from onnx_io import is_float, parse_args, write_result


def main():
    out, global_path, updates = parse_args(sys.argv[1:])
    names = None
    results = []
    for path, samples in updates:
        model = onnx.load(path)
        tensors = [tensor for tensor in model.graph.initializer if is_float(tensor)]
        names = [tensor.name for tensor in tensors]
        results.append(([numpy_helper.to_array(tensor) for tensor in tensors], samples))
        del model, tensors
    write_result(global_path, dict(zip(names, aggregate(results))), out)


if __name__ == "__main__":
    main()

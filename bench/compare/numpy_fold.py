"""A streaming FedAvg in numpy: one update in memory at a time, folded into float64 sums.

python numpy_fold.py --out RESULT GLOBAL PATH:SAMPLES ...
"""

import sys

import numpy as np
import onnx
from onnx import numpy_helper

from onnx_io import is_float, parse_args, write_result


def main():
    out, global_path, updates = parse_args(sys.argv[1:])
    total = sum(samples for _, samples in updates)
    sums = {}
    for path, samples in updates:
        model = onnx.load(path)
        weight = samples / total
        for tensor in model.graph.initializer:
            if not is_float(tensor):
                continue
            x = numpy_helper.to_array(tensor)
            acc = sums.get(tensor.name)
            if acc is None:
                acc = sums[tensor.name] = np.zeros(x.shape, dtype=np.float64)
            acc += x.astype(np.float64) * weight
        del model
    write_result(global_path, sums, out)


if __name__ == "__main__":
    main()

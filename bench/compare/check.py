"""The checks of `npm run bench:compare`, in the benchmark's virtual environment.

python check.py info
    One JSON object: the package versions and the numpy build and kernels that run (threadpoolctl, show_config).
python check.py agree TOLERANCE REFERENCE NAME=PATH ...
    Compares each NAME's model with REFERENCE initializer by initializer (names, dtypes, shapes, graph, and every
    value within TOLERANCE); prints one JSON object and exits 1 if any disagrees.
"""

import importlib.metadata
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def info():
    from threadpoolctl import threadpool_info

    config = np.show_config(mode="dicts")
    simd = config.get("SIMD Extensions", {})
    blas = config.get("Build Dependencies", {}).get("blas", {})
    pools = [
        {key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
        for pool in threadpool_info()
    ]
    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "versions": {
                    name: importlib.metadata.version(name)
                    for name in ("numpy", "onnx", "flwr", "protobuf", "threadpoolctl")
                },
                "blas": f"{blas.get('name')} {blas.get('version')}",
                "threadpools": pools,
                "simd_baseline": simd.get("baseline", []),
                "simd_found": simd.get("found", []),
                "openblas_env": {
                    key: os.environ.get(key) for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                },
            }
        )
    )


def initializers(path):
    model = onnx.load(path)
    nodes = [(node.op_type, list(node.input), list(node.output)) for node in model.graph.node]
    return nodes, {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}


def agree(tolerance, reference, others):
    ref_nodes, ref = initializers(reference)
    report = {"tolerance": tolerance, "tensors": len(ref), "tools": {}}
    ok = True
    for spec in others:
        name, path = spec.split("=", 1)
        nodes, arrays = initializers(path)
        problems = []
        if nodes != ref_nodes:
            problems.append("graph nodes differ")
        if sorted(arrays) != sorted(ref):
            problems.append("initializer names differ")
        max_diff = 0.0
        exact = 0
        values = 0
        for key, expected in ref.items():
            actual = arrays.get(key)
            if actual is None:
                continue
            if actual.dtype != expected.dtype or actual.shape != expected.shape:
                problems.append(f"{key}: {actual.dtype}{list(actual.shape)} vs {expected.dtype}{list(expected.shape)}")
                continue
            diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
            if not np.all(np.isfinite(diff)):
                problems.append(f"{key}: non-finite values")
                continue
            max_diff = max(max_diff, float(diff.max(initial=0.0)))
            exact += int(np.count_nonzero(diff == 0))
            values += diff.size
        if max_diff > tolerance:
            problems.append(f"max |difference| {max_diff:.3g} > {tolerance:g}")
        ok = ok and not problems
        report["tools"][name] = {"max_abs_diff": max_diff, "bit_equal": exact, "values": values, "problems": problems}
    report["ok"] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["info"]:
        info()
    elif sys.argv[1:2] == ["agree"] and len(sys.argv) >= 5:
        sys.exit(agree(float(sys.argv[2]), sys.argv[3], sys.argv[4:]))
    else:
        sys.exit(__doc__)

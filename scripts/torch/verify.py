"""Loads what write-results.ts wrote with PyTorch itself and compares it with a float64 computation from the clients.

    python verify.py <fixtures/torch folder> <results folder>

TorchScript results must load with torch.jit.load and run forward; state dicts with torch.load(weights_only=True).
Every aggregate must be within 1e-6 of the float64 FedAvg or coordinate-wise median of the clients' weights (as
PyTorch loads them), and client b's rewritten update must hold exactly client b's weights.
"""
import json
import os
import sys

import numpy as np
import torch


def weights(path, kind):
    if kind == 'jit':
        module = torch.jit.load(path)
        return module, {k: v.detach().numpy().astype(np.float64) for k, v in module.state_dict().items()}
    state = torch.load(path, weights_only=True)
    return None, {k: v.numpy().astype(np.float64) for k, v in state.items()}


def main(fixtures, results):
    sizes = json.load(open(os.path.join(fixtures, 'README.json')))['sizes']
    total = sum(sizes.values())
    failures = 0
    for model in ['mlp', 'cnn']:
        for kind in ['jit', 'state']:
            clients = {c: weights(os.path.join(fixtures, f'{model}-client-{c}.{kind}.pt'), kind)[1] for c in sizes}
            for method in ['FedAvg', 'FedMedian']:
                module, got = weights(os.path.join(results, f'{model}-{kind}-{method}.pt'), kind)
                worst = 0.0
                for name, values in got.items():
                    stack = [clients[c][name] for c in sizes]
                    if method == 'FedAvg':
                        expected = sum(clients[c][name] * sizes[c] for c in sizes) / total
                    else:
                        expected = np.median(np.stack(stack), axis=0)
                    worst = max(worst, float(np.abs(values - expected).max()))
                shape = tuple(module(torch.zeros(2, 1, 28, 28)).shape) if module is not None else None
                good = worst < 1e-6 and (module is None or shape == (2, 10))
                failures += 0 if good else 1
                print(f'{model} {kind} {method}: {len(got)} tensors, max |loaded - float64| {worst:.3g}'
                      + (f', forward {shape}' if module is not None else '') + ('' if good else '  FAILED'))
            _, rewritten = weights(os.path.join(results, f'{model}-{kind}-rewritten-b.pt'), kind)
            same = rewritten.keys() == clients['b'].keys() and all(
                np.array_equal(rewritten[k], clients['b'][k]) for k in rewritten)
            failures += 0 if same else 1
            print(f'{model} {kind} rewritten update of b holds b\'s weights: {same}')
    print('PyTorch', torch.__version__, 'loads every result:', 'yes' if failures == 0 else f'no, {failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))

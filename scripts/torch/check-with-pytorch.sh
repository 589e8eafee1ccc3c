#!/usr/bin/env bash
# Checks with PyTorch itself that what Roundhouse serves for PyTorch models loads and holds the right numbers
# (docs/pytorch.md). Not part of CI: PyTorch with its CUDA libraries is a few GB. It installs torch into a virtual
# environment of its own (TORCH_VENV, default ~/.cache/roundhouse-torch/venv-<version>), writes the aggregates of the
# fixtures with the engine, and loads them with torch.jit.load / torch.load(weights_only=True).
#
#   bash scripts/torch/check-with-pytorch.sh [results folder]
set -euo pipefail
cd "$(dirname "$0")/../.."
TORCH_VERSION="${TORCH_VERSION:-2.11.0}"
VENV="${TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/roundhouse-torch/venv-$TORCH_VERSION}"
FIXTURES="${FIXTURES:-../shared/fixtures/torch}"
OUT="${1:-$(mktemp -d /tmp/roundhouse-torch-XXXXXX)}"
if ! "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
  echo "check-with-pytorch: installing torch==$TORCH_VERSION and numpy into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy
fi
npx tsx scripts/torch/write-results.ts "$FIXTURES" "$OUT"
"$VENV/bin/python" scripts/torch/verify.py "$FIXTURES" "$OUT"

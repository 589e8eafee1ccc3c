#!/usr/bin/env bash
# The crash test (scripts/crash/run.ts), built and time-bounded: a FedAvg training of 3 simulated clients over real
# HTTP while `roundhouse dev` (or, with --mode worker, only the worker) is SIGKILLed at seeded random moments and
# restarted on the same state directory; then checks that the training completed, that no accepted upload was lost
# or counted twice, and that every global version is bit for bit the FedAvg computed offline.
#
#   bash scripts/crash/run.sh                          # dev mode: 6 rounds, 4 kills of the whole server, random seed
#   bash scripts/crash/run.sh --mode worker --seed 7   # kill only the worker; any run.ts argument passes through
#   CRASH_BOTH=1 bash scripts/crash/run.sh --seed 7    # dev mode, then worker mode, with the same arguments
#
# Environment: CRASH_TIMEOUT (hard bound per run in seconds, default 420; run.ts's own --timeout defaults to 360),
# CRASH_SKIP_BUILD=1 (dist/ is fresh), CRASH_REPORT_DIR (where the logs of a failed run go).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${CRASH_SKIP_BUILD:-}" != 1 ]; then
  echo "crash: compiling (npm run build)" >&2
  npm run --silent build
fi

run() {
  # run.ts cleans up on SIGTERM; `timeout` is the backstop should it hang, and SIGKILLs 30 s after the SIGTERM.
  timeout --signal=TERM --kill-after=30 "${CRASH_TIMEOUT:-420}" node_modules/.bin/tsx scripts/crash/run.ts "$@"
}

if [ "${CRASH_BOTH:-}" = 1 ]; then
  run --mode dev "$@"
  run --mode worker "$@"
else
  run "$@"
fi

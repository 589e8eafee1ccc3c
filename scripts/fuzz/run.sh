#!/usr/bin/env bash
# A bounded schemathesis run against a throwaway Roundhouse: builds dist/, starts the whole server (`roundhouse dev`:
# embedded Postgres, Temporal dev server, worker, API) on its own temp state directory and free ports, so it never
# collides with `npm test` or `npm start`; seeds a user, models, trainings and groups over HTTP (seed.ts), and
# fuzzes every operation of /api/schema/ with the seeded token and ids. Exits non-zero on any finding.
#
#   bash scripts/fuzz/run.sh                                   # the CI run
#   FUZZ_MAX_TIME=600 bash scripts/fuzz/run.sh                 # longer
#   bash scripts/fuzz/run.sh --include-path-regex '^/api/models/'   # extra arguments go to `schemathesis run`
#
# Environment:
#   FUZZ_MAX_TIME      seconds schemathesis may spend in total (default 180)
#   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 40)
#   FUZZ_SEED          hypothesis seed (default 20251201): the same seed generates the same data, apart from the
#                      seeded ids and from how many fuzzing/stateful rounds fit in FUZZ_MAX_TIME on the machine
#   FUZZ_PHASES        schemathesis phases (default examples,coverage,fuzzing,stateful)
#   FUZZ_WORKERS       schemathesis workers (default 1; the machine has 2 cores)
#   FUZZ_REPORTS       schemathesis report formats (default junit; ndjson (~100 MB) and har (~60 MB) hold every request)
#   FUZZ_REPORT_DIR    where the reports go (default .roundhouse-fuzz/reports/<UTC time>, git-ignored)
#   FUZZ_VENV          the virtual environment with schemathesis (default ~/.cache/roundhouse-fuzz/venv-...)
#   FUZZ_KEEP_STATE=1  keep the temp state directory (server log, Postgres, Temporal) after the run
#   FUZZ_LOG_LEVEL     the server's LOG_LEVEL (default warn; its log is copied to the report folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

SCHEMATHESIS_VERSION=4.32.5
FUZZ_HOME="$ROOT/.roundhouse-fuzz"
# Outside the work tree: `eslint .` would lint the .js files that some Python packages ship.
VENV="${FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/roundhouse-fuzz/venv-schemathesis-$SCHEMATHESIS_VERSION}"
MAX_TIME="${FUZZ_MAX_TIME:-180}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-40}"
SEED="${FUZZ_SEED:-20251201}"
PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}"
WORKERS="${FUZZ_WORKERS:-1}"
REPORT_DIR="${FUZZ_REPORT_DIR:-$FUZZ_HOME/reports/$(date -u +%Y%m%dT%H%M%SZ)}"
REPORTS="${FUZZ_REPORTS:-junit}"
READY_TIMEOUT=120
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,use_after_free

say() { echo "fuzz: $*" >&2; }

# --- schemathesis, pinned, in its own virtual environment -----------------------------------------------------------
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
    say "$VENV exists and is not a virtual environment; set FUZZ_VENV elsewhere"; exit 2
  fi
  say "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the server ------------------------------------------------------------------------------------------------------
if [ -z "${TEMPORAL_CLI_PATH:-}" ] && ! command -v temporal >/dev/null 2>&1; then
  # bootstrap.sh installs the Temporal CLI (and npm dependencies) when missing; it builds nothing in `test` mode.
  bash scripts/bootstrap.sh test
fi
say "compiling (npm run build)"
npm run --silent build

STATE="$(mktemp -d "${TMPDIR:-/tmp}/roundhouse-fuzz-XXXXXX")"
# mktemp makes it 0700; embedded Postgres runs as the `postgres` user when we are root and must reach its folder.
chmod 0755 "$STATE"
SERVER_PID=""
FUZZ_PID=""
SERVER_LOG="$STATE/server.log"

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    say "stopping the server (pid $SERVER_PID)"
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      say "the server ignored SIGINT for 30 s; SIGTERM"
      kill -TERM "$SERVER_PID" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  # The server ran in its own process group (setsid): whatever of it is left (Postgres, Temporal) goes with it.
  if kill -0 -- "-$SERVER_PID" 2>/dev/null; then
    say "stopping what the server left running (process group $SERVER_PID)"
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 -- "-$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$FUZZ_PID" ] && kill -0 "$FUZZ_PID" 2>/dev/null; then
    kill -TERM "$FUZZ_PID" 2>/dev/null || true
    wait "$FUZZ_PID" 2>/dev/null || true
  fi
  stop_server
  if [ "${FUZZ_KEEP_STATE:-}" = 1 ]; then
    say "state kept in $STATE"
  elif [ "$status" -ne 0 ] && [ -f "$SERVER_LOG" ] && [ -d "$REPORT_DIR" ]; then
    cp "$SERVER_LOG" "$REPORT_DIR/server.log" 2>/dev/null || true
  fi
  [ "${FUZZ_KEEP_STATE:-}" = 1 ] || rm -rf "$STATE"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Four distinct free ports from the OS, held open together so none is handed out twice.
read -r API_PORT PG_PORT TEMPORAL_PORT TEMPORAL_UI_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
EOF
)

# temporal.yaml with this run's dev-server ports (config.ts requires `address` to be the dev server's).
node -e '
  const fs = require("node:fs");
  const YAML = require("yaml");
  const [src, dest, port, uiPort] = process.argv.slice(1);
  const doc = YAML.parse(fs.readFileSync(src, "utf8"));
  doc.devServer.port = Number(port);
  doc.devServer.uiPort = Number(uiPort);
  doc.address = `${doc.devServer.ip}:${port}`;
  fs.writeFileSync(dest, YAML.stringify(doc));
' "$ROOT/temporal.yaml" "$STATE/temporal.yaml" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT"

BASE_URL="http://127.0.0.1:$API_PORT"
say "starting Roundhouse on $BASE_URL (state $STATE, Postgres $PG_PORT, Temporal $TEMPORAL_PORT)"
# Only what this run must change is set; TEMPORAL_ADDRESS and DATABASE_URL are cleared so the embedded ones are used.
# Task long-polls are held at most 1 s, so a generated `wait` of up to 60 s never runs into the request timeout.
env -u TEMPORAL_ADDRESS -u DATABASE_URL -u ROUNDHOUSE_BLOB_DIR \
  ROUNDHOUSE_STATE_DIR="$STATE/state" \
  ROUNDHOUSE_HOST=127.0.0.1 \
  PORT="$API_PORT" \
  ROUNDHOUSE_EMBEDDED_PG_PORT="$PG_PORT" \
  ROUNDHOUSE_TEMPORAL_CONFIG="$STATE/temporal.yaml" \
  ROUNDHOUSE_MAX_POLL_WAIT_SECONDS=1 \
  LOG_LEVEL="${FUZZ_LOG_LEVEL:-warn}" \
  setsid node dist/cli/main.js dev >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!

deadline=$((SECONDS + READY_TIMEOUT))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE_URL/api/ready/" || true)" = 200 ]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    say "the server exited before it was ready:"; tail -n 50 "$SERVER_LOG" >&2; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    say "the server was not ready within ${READY_TIMEOUT} s:"; tail -n 50 "$SERVER_LOG" >&2; exit 1
  fi
  sleep 1
done
say "ready"

# --- seed data and the schemathesis configuration ---------------------------------------------------------------------
mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"
# Which code was fuzzed: the commit, and whether the work tree differed from it.
{ git rev-parse HEAD && git status --short -- src; } >"$REPORT_DIR/revision.txt" 2>/dev/null || true
node_modules/.bin/tsx scripts/fuzz/seed.ts "$BASE_URL" "$STATE/seed.json" >/dev/null
"$VENV/bin/python" scripts/fuzz/make_config.py "$STATE/seed.json" "$STATE/schemathesis.toml" "$REPORT_DIR/cache"
cp "$STATE/schemathesis.toml" "$REPORT_DIR/schemathesis.toml"
# The ids (not the token or password) go next to the reports, to read the findings against.
"$VENV/bin/python" -c 'import json,sys; s=json.load(open(sys.argv[1])); [s.pop(k) for k in ("token","rotation_token","password")]; json.dump(s, open(sys.argv[2],"w"), indent=2)' \
  "$STATE/seed.json" "$REPORT_DIR/seed.json"
# The configuration reads the tokens from the environment; it names none itself.
FUZZ_TOKEN="$("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$STATE/seed.json")"
FUZZ_ROTATION_TOKEN="$("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rotation_token"])' "$STATE/seed.json")"
export FUZZ_TOKEN FUZZ_ROTATION_TOKEN

# --- schemathesis ----------------------------------------------------------------------------------------------------
say "schemathesis $SCHEMATHESIS_VERSION: phases $PHASES, at most ${MAX_TIME} s, seed $SEED, reports in $REPORT_DIR"
# In the background, so that a SIGTERM to this script is handled at once (bash runs traps only between commands).
# Its closing banner ("==== 4 warnings in 180.04s ====") reads like a pytest run that executed no test, and CI's
# log reader took it for one: the banners are printed as plain "schemathesis: ..." lines instead.
"$VENV/bin/schemathesis" --config-file "$STATE/schemathesis.toml" run "$BASE_URL/api/schema/?format=json" \
  --url "$BASE_URL" \
  --checks "$CHECKS" \
  --phases "$PHASES" \
  --max-time "$MAX_TIME" \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers "$WORKERS" \
  --generation-database none \
  --request-timeout 30 \
  --report "$REPORTS" \
  --report-dir "$REPORT_DIR" \
  --continue-on-failure \
  --no-color \
  "$@" > >(sed -u -E 's/^=+ (.*[^ =]) =+$/schemathesis: \1/') 2>&1 &
FUZZ_PID=$!
status=0
wait "$FUZZ_PID" || status=$?
FUZZ_PID=""
cp "$SERVER_LOG" "$REPORT_DIR/server.log"
say "reports in $REPORT_DIR:"
ls -1 "$REPORT_DIR" | sed 's/^/fuzz:   /' >&2
if [ "$status" -ne 0 ]; then
  say "schemathesis exited with $status: findings (or errors) above"
fi
exit "$status"
